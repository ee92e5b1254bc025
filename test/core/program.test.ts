/**
 * A unikernel's program runs unchanged on in-memory layers: here the
 * tutorial's hello-key, with virtual time and a captured log.
 */
import { expect, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import { TestClock } from "effect/testing"
import * as HelloKey from "../../examples/hello-key/unikernel.ts"
import * as Console2015 from "../../examples/console/unikernel.ts"
import * as Log from "../../src/core/Log.ts"
import { parseLevelSpec } from "../../src/core/LogLevels.ts"
import { MemoryLive } from "../../src/layers/memory.ts"

it.effect("hello-key logs its greeting four times, one virtual second apart", () => {
  const lines: Array<string> = []
  return Effect.gen(function* () {
    const fiber = yield* Effect.forkChild(HelloKey.Hello.pipe(Effect.provideService(HelloKey.hello, "Hej")))
    yield* TestClock.adjust("1500 millis")
    expect(lines).toHaveLength(2)
    yield* TestClock.adjust("2500 millis")
    yield* Fiber.join(fiber)
    expect(lines).toEqual([
      "1970-01-01 00:00:00 +00:00: INF [application] Hej",
      "1970-01-01 00:00:01 +00:00: INF [application] Hej",
      "1970-01-01 00:00:02 +00:00: INF [application] Hej",
      "1970-01-01 00:00:03 +00:00: INF [application] Hej",
    ])
  }).pipe(
    Effect.provide(MemoryLive({ consoleLines: [] })),
    Effect.provide(Log.layer(parseLevelSpec("*:info")!, { write: (l) => lines.push(l), offsetMinutes: 0 })),
  )
})

it.effect("the 2015 console example writes through the Console device", () => {
  const consoleLines: Array<string> = []
  return Effect.gen(function* () {
    const fiber = yield* Effect.forkChild(Console2015.Main.start)
    yield* TestClock.adjust("5 seconds")
    yield* Fiber.join(fiber)
    expect(consoleLines).toEqual(Array.from({ length: 5 }, () => ["hello", "world"]).flat())
  }).pipe(Effect.provide(MemoryLive({ consoleLines })))
})
