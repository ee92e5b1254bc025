/**
 * The native addon's contract, against a real TAP in a throw-away namespace:
 * batching per wake-up, pause/resume, batched writes, safe close, and the
 * `Netif` layer's backpressure. Skipped (reason printed) where it cannot run.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Stream } from "effect"
import { Netif } from "../../../src/net/Netif.ts"
import { layerTap, loadTapAddon } from "../../../src/net/NetifTap.ts"
import type { TapAddon } from "../../../src/net/NetifTap.ts"
import { kernelRxPackets, kernelSends, kernelSkipReason, moveIntoNamespace, scratchNamespace } from "./netns.ts"
import { BROADCAST, testFrame } from "./frames.ts"

const reason = kernelSkipReason()
if (reason !== undefined) console.log(`skipping addon tests: ${reason}`)

/** Polls `done` every 20 ms, for at most `ms`. */
const waitUntil = (done: () => boolean, ms = 3000) =>
  Effect.gen(function* () {
    for (let waited = 0; waited < ms && !done(); waited += 20) yield* Effect.sleep("20 millis")
  })

/** Opens a TAP through the addon (closed on release) and moves it into a fresh namespace. */
const openedTap = Effect.gen(function* () {
  const addon = yield* loadTapAddon()
  const { ns, ifname } = yield* scratchNamespace
  const device = yield* Effect.acquireRelease(Effect.sync(() => addon.openTap(ifname)), (d) => Effect.sync(() => addon.close(d.handle)))
  yield* moveIntoNamespace(ns, ifname, "10.77.0.1/24")
  return { addon, device, ns, ifname }
})

/** Records every callback of the addon as the list of frame first-payload bytes. */
const recordBatches = (addon: TapAddon, handle: Parameters<TapAddon["start"]>[0], after?: () => void) => {
  const batches: Array<Array<number>> = []
  addon.start(handle, (data, lengths) => {
    const bytes = new Uint8Array(data)
    const batch: Array<number> = []
    for (let i = 0, offset = 0; i < lengths.length; offset += lengths[i]!, i++) batch.push(bytes[offset + 14]!)
    batches.push(batch)
    after?.()
  })
  return batches
}

describe.skipIf(reason !== undefined)("tap.node addon (root, network namespace)", () => {
  it.live("one wake-up drains many frames into one callback; pause keeps them in the kernel until resume", () =>
    Effect.gen(function* () {
      const { addon, device, ns, ifname } = yield* openedTap
      const batches = recordBatches(addon, device.handle)
      addon.pause(device.handle)
      yield* kernelSends(ns, ifname, 40)
      yield* Effect.sleep("200 millis")
      expect(batches).toEqual([])
      addon.resume(device.handle)
      yield* waitUntil(() => batches.flat().length >= 40)
      expect(batches.flat()).toEqual(Array.from({ length: 40 }, (_, i) => i))
      expect(batches.length).toBe(1)
    }).pipe(Effect.scoped))

  it.live("write sends a batch in one call; the kernel counts every frame", () =>
    Effect.gen(function* () {
      const { addon, device, ns, ifname } = yield* openedTap
      const before = kernelRxPackets(ns, ifname)
      const frames = Array.from({ length: 5 }, (_, i) => testFrame(BROADCAST, Uint8Array.of(2, 0, 0, 0, 0, 9), i))
      expect(addon.write(device.handle, frames, 0)).toEqual({ done: 5, errno: 0 })
      expect(addon.write(device.handle, frames, 3)).toEqual({ done: 2, errno: 0 })
      expect(kernelRxPackets(ns, ifname) - before).toBe(7)
      const tooShort = addon.write(device.handle, [frames[0]!, new Uint8Array(4), frames[1]!], 0)
      expect(tooShort).toEqual({ done: 1, errno: addon.errno.EINVAL })
      expect(() => addon.write(device.handle, [new Uint16Array(32) as unknown as Uint8Array], 0)).toThrow(TypeError)
    }).pipe(Effect.scoped))

  it.live("close from inside the callback, and twice, is safe; a closed handle throws EBADF", () =>
    Effect.gen(function* () {
      const { addon, device, ns, ifname } = yield* openedTap
      const batches = recordBatches(addon, device.handle, () => addon.close(device.handle))
      yield* kernelSends(ns, ifname, 10)
      yield* waitUntil(() => batches.length > 0)
      yield* Effect.sleep("100 millis")
      expect(batches.length).toBe(1)
      addon.close(device.handle)
      expect(() => addon.pause(device.handle)).toThrow(expect.objectContaining({ errno: addon.errno.EBADF }))
    }).pipe(Effect.scoped))

  it.live("the Netif layer pauses the device while its queue is full instead of dropping", () =>
    Effect.gen(function* () {
      const { ns, ifname } = yield* scratchNamespace
      yield* Effect.gen(function* () {
        const netif = yield* Netif
        yield* moveIntoNamespace(ns, ifname, "10.77.0.1/24")
        for (let burst = 0; burst < 3; burst++) {
          yield* kernelSends(ns, ifname, 10)
          yield* Effect.sleep("50 millis")
        }
        const received = yield* netif.frames.pipe(
          Stream.flatMap((batch) => Stream.fromIterable(batch)),
          Stream.filter((frame) => frame[12] === 0x88 && frame[13] === 0xb5),
          Stream.take(30),
          Stream.runCollect,
          Effect.timeout("3 seconds"),
        )
        expect(received.map((frame) => frame[14])).toEqual([...Array(10).keys(), ...Array(10).keys(), ...Array(10).keys()])
        expect((yield* netif.stats).rxDrops).toBe(0)
      }).pipe(Effect.scoped, Effect.provide(layerTap({ name: ifname, rxQueueBatches: 1 })))
    }).pipe(Effect.scoped))
})
