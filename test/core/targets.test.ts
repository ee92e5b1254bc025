/**
 * Every target module provides the basic devices under the names the DSL's
 * default devices use (`Target.time`, `Target.mclock`…), and each bundle
 * (`UnixLive`, `Solo5Live`, `XenLive`) gives a program all five services.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { Console } from "../../src/core/Console.ts"
import { defaultConsole, defaultMClock, defaultPClock, defaultRandom, defaultTime } from "../../src/core/devices.ts"
import { MClock } from "../../src/core/MClock.ts"
import { PClock } from "../../src/core/PClock.ts"
import { Random } from "../../src/core/Random.ts"
import { targets } from "../../src/core/Target.ts"
import { Time } from "../../src/core/Time.ts"
import * as Hvt from "../../src/layers/hvt.ts"
import * as Unix from "../../src/layers/unix.ts"
import * as Xen from "../../src/layers/xen.ts"

const modules: Record<(typeof targets)[number], Record<string, unknown>> = { unix: Unix, hvt: Hvt, xen: Xen }

/** A program needing all five basic devices. */
const useAll = Effect.gen(function* () {
  yield* (yield* Time).sleep("20 millis")
  const elapsed = yield* (yield* MClock).elapsedNs
  const now = yield* (yield* PClock).nowMs
  const bytes = yield* (yield* Random).bytes(16)
  yield* Console
  return { elapsed, now, bytes }
})

describe("target modules", () => {
  for (const target of targets) {
    it(`${target} exports a layer for every default device`, () => {
      for (const device of [defaultTime, defaultMClock, defaultPClock, defaultRandom, defaultConsole]) {
        const implementation = device.implement({ target, keys: new Map(), dir: ".", mainExport: () => undefined })
        if (typeof implementation === "string") throw new Error(implementation)
        const member = implementation.layer.replace(/^Target\./, "")
        expect(Layer.isLayer(modules[target][member]), `${target}.${member}`).toBe(true)
      }
    })
  }

  for (const [name, bundle] of [["UnixLive", Unix.UnixLive], ["Solo5Live", Hvt.Solo5Live], ["XenLive", Xen.XenLive]] as const) {
    it.live(`${name} gives a program every basic device`, () =>
      Effect.gen(function* () {
        const { elapsed, now, bytes } = yield* useAll.pipe(Effect.provide(bundle))
        // Node's timers count from the event loop's cached time, which can lag the clock by a
        // fraction of a millisecond under load: a 20 ms sleep shows on the clock as well over 10 ms.
        expect(elapsed).toBeGreaterThanOrEqual(10_000_000n)
        expect(Math.abs(now - Date.now())).toBeLessThan(60_000)
        expect(bytes).toHaveLength(16)
      }))
  }
})
