import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import { TestClock } from "effect/testing"
import { Console } from "../../src/core/Console.ts"
import { MClock } from "../../src/core/MClock.ts"
import { PClock } from "../../src/core/PClock.ts"
import { Random } from "../../src/core/Random.ts"
import { Time } from "../../src/core/Time.ts"
import { MemoryLive } from "../../src/layers/memory.ts"

describe("basic devices on the memory layers", () => {
  it.effect("Time sleeps on the TestClock and MClock counts virtual nanoseconds", () => {
    const consoleLines: Array<string> = []
    return Effect.gen(function* () {
      const time = yield* Time
      const mclock = yield* MClock
      const fiber = yield* Effect.forkChild(time.sleepNs(2_000_000_000n))
      yield* TestClock.adjust("1 second")
      expect(fiber.pollUnsafe()).toBeUndefined()
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(fiber)
      expect(yield* mclock.elapsedNs).toBe(2_000_000_000n)
    }).pipe(Effect.provide(MemoryLive({ consoleLines })))
  })

  it.effect("PClock follows the clock with a fixed offset", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(1_500_000_000_000)
      const pclock = yield* PClock
      expect(yield* pclock.nowMs).toBe(1_500_000_000_000)
      expect(yield* pclock.tzOffsetSeconds).toBe(0)
    }).pipe(Effect.provide(MemoryLive({ consoleLines: [] }))))

  it.effect("seeded Random is deterministic and live Random differs between draws", () =>
    Effect.gen(function* () {
      const draw = Random.use((r) => r.bytes(32))
      const a = yield* draw.pipe(Effect.provide(Random.layerSeeded(7)))
      const b = yield* draw.pipe(Effect.provide(Random.layerSeeded(7)))
      const c = yield* draw.pipe(Effect.provide(Random.layerSeeded(8)))
      expect(a).toEqual(b)
      expect(a).not.toEqual(c)
      const live = yield* Effect.all([draw, draw]).pipe(Effect.provide(Random.layer))
      expect(live[0]).not.toEqual(live[1])
      const big = yield* Random.use((r) => r.bytes(100_000)).pipe(Effect.provide(Random.layer))
      expect(big.subarray(70_000).some((x) => x !== 0)).toBe(true)
    }))

  it.effect("the memory console records lines and raw writes", () => {
    const consoleLines: Array<string> = []
    return Effect.gen(function* () {
      const console = yield* Console
      yield* console.log("hello")
      yield* console.write(new TextEncoder().encode("wor"))
      yield* console.write(new TextEncoder().encode("ld\nrest"))
      expect(consoleLines).toEqual(["hello", "world"])
    }).pipe(Effect.provide(Console.layerMemory(consoleLines)))
  })
})
