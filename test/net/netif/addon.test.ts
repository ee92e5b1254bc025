/**
 * The native addon's contract, against a real TAP in a throw-away namespace:
 * batching per wake-up, pause/resume, batched writes, safe close, and the
 * `Netif` layer's backpressure; each three times: frames read and written
 * through an io_uring (where the kernel allows it), with the kernel's side
 * on a NAPI thread and without, and a system call per frame. Then threaded
 * NAPI's fallback. Skipped (reason printed) where it cannot run.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Stream } from "effect"
import { spawnSync } from "node:child_process"
import { join } from "node:path"
import { Netif } from "../../../src/net/Netif.ts"
import { layerTap, loadTapAddon } from "../../../src/net/NetifTap.ts"
import type { TapAddon, TapOffload } from "../../../src/net/NetifTap.ts"
import { ioUringAllowed, multishotReads, ip, kernelRxPackets, kernelSends, kernelSendsSpaced, kernelSkipReason, moveIntoNamespace, root, scratchNamespace, waitUntil } from "./netns.ts"
import { BROADCAST, testFrame } from "./frames.ts"

const reason = kernelSkipReason()
if (reason !== undefined) console.log(`skipping addon tests: ${reason}`)

/** linux/if_tun.h: the TAP's NAPI flag, as `/sys/class/net/<name>/tun_flags` shows it. */
const IFF_NAPI = 0x0010

/** The TAP's flags and whether its NAPI poll runs on a thread of its own, read from sysfs in `ns`. */
const napiOf = (ns: string, ifname: string) => {
  const read = (file: string) => ip("netns", "exec", ns, "cat", `/sys/class/net/${ifname}/${file}`).trim()
  return { napi: (Number(read("tun_flags")) & IFF_NAPI) !== 0, threaded: read("threaded") !== "0" }
}

/** Opens a TAP through the addon (`offload`, through a ring or not, threaded NAPI or not; closed on release) and moves it into a fresh namespace. */
const openedTap = (ring: boolean, threaded: boolean, offload: TapOffload = false) =>
  Effect.gen(function* () {
    const addon = yield* loadTapAddon()
    const { ns, ifname } = yield* scratchNamespace
    const device = yield* Effect.acquireRelease(
      Effect.sync(() => addon.openTap(ifname, offload, 0, ring, threaded)),
      (d) => Effect.sync(() => addon.close(d.handle)),
    )
    expect(device.ring).toBe(ring && ioUringAllowed)
    // The multishot read takes frames up to the MTU; the kernel's offload hands over bigger ones, read as before.
    expect(device.multishot).toBe(device.ring && multishotReads && offload !== true)
    expect(device.threaded).toBe(threaded)
    yield* moveIntoNamespace(ns, ifname, "10.77.0.1/24")
    expect(napiOf(ns, ifname)).toEqual({ napi: threaded, threaded })
    return { addon, device, ns, ifname }
  })

/** An Ethernet + IPv4 + TCP frame (20-byte headers) carrying `data` bytes, for the addon to cut. */
const tcpFrame = (data: number, sequence: number): Uint8Array => {
  const frame = new Uint8Array(14 + 40 + data)
  const view = new DataView(frame.buffer)
  frame.set(BROADCAST, 0)
  frame.set(Uint8Array.of(2, 0, 0, 0, 0, 9), 6)
  view.setUint16(12, 0x0800)
  view.setUint8(14, 0x45)
  view.setUint16(16, 40 + data)
  view.setUint8(22, 64)
  view.setUint8(23, 6)
  frame.set(Uint8Array.of(10, 77, 0, 9, 10, 77, 0, 1), 26)
  view.setUint16(34, 40000)
  view.setUint16(36, 9)
  view.setUint32(38, sequence)
  view.setUint8(46, 5 << 4)
  view.setUint8(47, 0x10)
  view.setUint16(48, 65535)
  return frame
}

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

describe.skipIf(reason !== undefined).each([
  { ring: true, threaded: true, io: "batched through io_uring, the kernel's side on a NAPI thread" },
  { ring: true, threaded: false, io: "batched through io_uring" },
  { ring: false, threaded: false, io: "a system call per frame" },
])("tap.node addon (root, network namespace), $io", ({ ring, threaded }) => {
  it.live("one wake-up drains many frames into one callback; pause keeps them in the kernel until resume", () =>
    Effect.gen(function* () {
      const { addon, device, ns, ifname } = yield* openedTap(ring, threaded)
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

  it.live("reads into the buffer start was given, then into setBuffer's; the one before is no longer written; too small a buffer is refused", () =>
    Effect.gen(function* () {
      const { addon, device, ns, ifname } = yield* openedTap(ring, threaded)
      const small = new ArrayBuffer(addon.receiveBufferBytes - 1)
      expect(() => addon.start(device.handle, () => {}, small)).toThrow(RangeError)
      const first = new ArrayBuffer(addon.receiveBufferBytes)
      const second = new ArrayBuffer(addon.receiveBufferBytes)
      const batches: Array<{ readonly into: ArrayBuffer; readonly bytes: ReadonlyArray<number> }> = []
      addon.start(device.handle, (data, lengths) => {
        const bytes = new Uint8Array(data)
        const firsts: Array<number> = []
        for (let i = 0, offset = 0; i < lengths.length; offset += lengths[i]!, i++) firsts.push(bytes[offset + 14]!)
        batches.push({ into: data, bytes: firsts })
        if (data === first) {
          addon.setBuffer(device.handle, second)
          bytes.fill(0xee) // ours from now on: the device must leave it as it is
        }
      }, first)
      expect(() => addon.setBuffer(device.handle, small)).toThrow(RangeError)
      yield* kernelSends(ns, ifname, 20)
      yield* waitUntil(() => batches.length >= 1)
      yield* kernelSends(ns, ifname, 20)
      yield* waitUntil(() => batches.flatMap((b) => b.bytes).length >= 40)
      expect(batches.flatMap((b) => b.bytes)).toEqual([...Array.from({ length: 20 }, (_, i) => i), ...Array.from({ length: 20 }, (_, i) => i)])
      expect(batches[0]!.into).toBe(first)
      expect(batches.slice(1).every((b) => b.into === second)).toBe(true)
      expect(new Uint8Array(first).every((byte) => byte === 0xee)).toBe(true)
    }).pipe(Effect.scoped))

  it.live("busy polling: every frame still comes, in order; a time outside 0–1000 µs is refused", () =>
    Effect.gen(function* () {
      const { addon, device, ns, ifname } = yield* openedTap(ring, threaded)
      expect(() => addon.busyPoll(device.handle, -1)).toThrow(RangeError)
      expect(() => addon.busyPoll(device.handle, 1001)).toThrow(RangeError)
      expect(() => addon.busyPoll(device.handle, Number.NaN)).toThrow(RangeError)
      addon.busyPoll(device.handle, 1000)
      const batches = recordBatches(addon, device.handle)
      yield* kernelSendsSpaced(ns, ifname, 30, 0.0002)
      yield* waitUntil(() => batches.flat().length >= 30)
      expect(batches.flat()).toEqual(Array.from({ length: 30 }, (_, i) => i))
    }).pipe(Effect.scoped))

  it.live("busy polling spends CPU time checking after each wake-up with frames; without it the process sleeps", () =>
    Effect.gen(function* () {
      /** CPU milliseconds our thread (the event loop's) used while the kernel sent 40 frames 10 ms apart, busy polling for `micros` after each. */
      const cpuWhileReceiving = (micros: number) =>
        Effect.gen(function* () {
          const { addon, device, ns, ifname } = yield* openedTap(ring, threaded)
          addon.busyPoll(device.handle, micros)
          const batches = recordBatches(addon, device.handle)
          const before = process.threadCpuUsage()
          yield* kernelSendsSpaced(ns, ifname, 40, 0.01)
          yield* waitUntil(() => batches.flat().length >= 40)
          const used = process.threadCpuUsage(before)
          expect(batches.flat()).toEqual(Array.from({ length: 40 }, (_, i) => i))
          return (used.user + used.system) / 1000
        }).pipe(Effect.scoped)
      yield* cpuWhileReceiving(0) // warms up: the first run compiles the code it runs
      const off = yield* cpuWhileReceiving(0)
      const on = yield* cpuWhileReceiving(1000)
      // About 1 ms of checking after each of the 40 wake-ups.
      expect(on - off).toBeGreaterThan(15)
    }))

  it.live("write sends a batch in one call; the kernel counts every frame", () =>
    Effect.gen(function* () {
      const { addon, device, ns, ifname } = yield* openedTap(ring, threaded)
      const before = kernelRxPackets(ns, ifname)
      const frames = Array.from({ length: 5 }, (_, i) => testFrame(BROADCAST, Uint8Array.of(2, 0, 0, 0, 0, 9), i))
      expect(addon.write(device.handle, frames, 0)).toEqual({ done: 5, errno: 0 })
      expect(addon.write(device.handle, frames, 3)).toEqual({ done: 2, errno: 0 })
      expect(kernelRxPackets(ns, ifname) - before).toBe(7)
      const tooShort = addon.write(device.handle, [frames[0]!, new Uint8Array(4), frames[1]!], 0)
      expect(tooShort).toEqual({ done: 1, errno: addon.errno.EINVAL })
      // Writing stops at the refused frame: the one after it did not go out.
      expect(kernelRxPackets(ns, ifname) - before).toBe(8)
      expect(() => addon.write(device.handle, [new Uint16Array(32) as unknown as Uint8Array], 0)).toThrow(TypeError)
    }).pipe(Effect.scoped))

  it.live("one write of cut frames, more segments than a ring batch, puts every segment on the device", () =>
    Effect.gen(function* () {
      const { addon, device, ns, ifname } = yield* openedTap(ring, threaded, "software")
      const before = kernelRxPackets(ns, ifname)
      // 1460 bytes of data per segment at MTU 1500: 4 frames of 42 segments, 168 writes.
      const frames = Array.from({ length: 4 }, (_, i) => tcpFrame(42 * 1460, i * 42 * 1460))
      expect(addon.write(device.handle, frames, 0)).toEqual({ done: 4, errno: 0 })
      expect(kernelRxPackets(ns, ifname) - before).toBe(168)
    }).pipe(Effect.scoped))

  it.live("close from inside the callback, and twice, is safe; a closed handle throws EBADF", () =>
    Effect.gen(function* () {
      const { addon, device, ns, ifname } = yield* openedTap(ring, threaded)
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
      }).pipe(Effect.scoped, Effect.provide(layerTap({ name: ifname, rxQueueBatches: 1, ioUring: ring, threadedNapi: threaded })))
    }).pipe(Effect.scoped))
})

describe.skipIf(reason !== undefined)("tap.node addon, threaded NAPI (root)", () => {
  it.live("where the NAPI thread cannot be turned on (sysfs read-only), the TAP opens without IFF_NAPI", () =>
    Effect.gen(function* () {
      const { ifname } = yield* scratchNamespace
      // A child in a mount namespace of its own, where /sys is read-only: opens the TAP asking for the thread.
      const child = `
        const addon = require(${JSON.stringify(join(root, "build", "tap.node"))})
        const device = addon.openTap(${JSON.stringify(ifname)}, false, 0, true, true)
        const flags = Number(require("node:fs").readFileSync("/sys/class/net/${ifname}/tun_flags", "utf8"))
        console.log(JSON.stringify({ threaded: device.threaded, napi: (flags & ${IFF_NAPI}) !== 0 }))
        addon.close(device.handle)`
      const run = spawnSync("unshare", ["-m", "sh", "-c", "mount -o remount,bind,ro /sys && exec \"$0\" -e \"$1\"", process.execPath, child], { encoding: "utf8" })
      expect(run.stderr).toBe("")
      expect(JSON.parse(run.stdout)).toEqual({ threaded: false, napi: false })
    }).pipe(Effect.scoped))

  it.live("the Netif layer asks for it by default without the kernel's offload, and not with it", () =>
    Effect.gen(function* () {
      for (const [offload, threaded] of [["software", true], [false, true], [true, false]] as const) {
        const { ns, ifname } = yield* scratchNamespace
        yield* Effect.gen(function* () {
          yield* Netif
          yield* moveIntoNamespace(ns, ifname, "10.77.0.1/24")
          expect(napiOf(ns, ifname)).toEqual({ napi: threaded, threaded })
        }).pipe(Effect.scoped, Effect.provide(layerTap({ name: ifname, offload })))
      }
    }).pipe(Effect.scoped))
})

describe.skipIf(reason !== undefined || !ioUringAllowed || !multishotReads)("tap.node addon, receiving through a multishot read (root, Linux 6.7)", () => {
  /** Each frame of each batch as [first payload byte, length]. */
  const recordFrames = (addon: TapAddon, handle: Parameters<TapAddon["start"]>[0]) => {
    const batches: Array<Array<readonly [number, number]>> = []
    addon.start(handle, (data, lengths) => {
      const bytes = new Uint8Array(data)
      const batch: Array<readonly [number, number]> = []
      for (let i = 0, offset = 0; i < lengths.length; offset += lengths[i]!, i++) batch.push([bytes[offset + 14]!, lengths[i]!])
      batches.push(batch)
    })
    return batches
  }

  it.live("frames up to the MTU come whole and in order; more than its buffers hold take two wake-ups, none lost", () =>
    Effect.gen(function* () {
      const { addon, device, ns, ifname } = yield* openedTap(true, false)
      expect(device.multishot).toBe(true)
      const batches = recordFrames(addon, device.handle)
      addon.pause(device.handle)
      yield* kernelSends(ns, ifname, 100, 1514)
      addon.resume(device.handle)
      yield* waitUntil(() => batches.flat().length >= 100)
      expect(batches.flat()).toEqual(Array.from({ length: 100 }, (_, i) => [i, 1514]))
      expect(batches.length).toBeGreaterThan(1) // a read takes 64 frames at most, then is armed again
    }).pipe(Effect.scoped))

  it.live("a frame too big for its buffers (the MTU raised after open) is dropped; from then on frames are read whole without it", () =>
    Effect.gen(function* () {
      const { addon, device, ns, ifname } = yield* openedTap(true, false)
      expect(device.multishot).toBe(true)
      const batches = recordFrames(addon, device.handle)
      yield* kernelSends(ns, ifname, 3)
      yield* waitUntil(() => batches.flat().length >= 3)
      ip("-n", ns, "link", "set", ifname, "mtu", "30000")
      yield* kernelSends(ns, ifname, 1, 25_000)
      yield* Effect.sleep("200 millis")
      yield* kernelSends(ns, ifname, 3, 25_000)
      yield* waitUntil(() => batches.flat().length >= 6)
      expect(batches.flat()).toEqual([[0, 64], [1, 64], [2, 64], [0, 25_000], [1, 25_000], [2, 25_000]])
    }).pipe(Effect.scoped))
})
