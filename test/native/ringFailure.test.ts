/**
 * The addon when one of its io_urings breaks while a TAP is in use: built
 * with the seam of failingUring.h (io_uring_enter() fails as
 * EUK_TEST_URING_FAIL says, one item per ring: the ring of writes and
 * plain reads, then the receive ring of the multishot read), it must close
 * that ring and go on without it (reading through the ring of plain reads,
 * or a system call per frame): no frame lost, none written twice, no error
 * reported to JavaScript. Against a real TAP in a throw-away namespace; skipped (reason
 * printed) where that, the compiler or io_uring is missing.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { spawnSync } from "node:child_process"
import { mkdirSync, readdirSync, readlinkSync } from "node:fs"
import { join } from "node:path"
import { loadTapAddon } from "../../src/net/NetifTap.ts"
import { addonCompiler } from "../../scripts/build-addon.ts"
import { ioUringAllowed, kernelRxPackets, kernelSends, kernelSkipReason, moveIntoNamespace, scratchNamespace, waitUntil } from "../net/netif/netns.ts"
import { BROADCAST, testFrame } from "../net/netif/frames.ts"

const here = import.meta.dirname
const variant = join(here, "..", ".tmp", "tap-failing-uring.node")

/** Builds the addon with the seam; why not, if it cannot be. */
const build = (): string | undefined => {
  mkdirSync(join(here, "..", ".tmp"), { recursive: true })
  const compiler = addonCompiler(variant, ["-include", join(here, "failingUring.h")])
  if ("problem" in compiler) return `${compiler.problem} (${compiler.fix})`
  const built = spawnSync(compiler.cc, compiler.args, { encoding: "utf8" })
  return built.status === 0 ? undefined : `cannot build the addon with test/native/failingUring.h: ${built.stderr}`
}

const reason = kernelSkipReason() ?? (ioUringAllowed ? undefined : "io_uring is disabled here") ?? build()
if (reason !== undefined) console.log(`skipping the broken-ring tests: ${reason}`)

/** io_uring instances this process holds open. */
const ringsOpen = (): number =>
  readdirSync("/proc/self/fd").filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === "anon_inode:[io_uring]"
    } catch {
      return false // closed while listed
    }
  }).length

/**
 * A TAP opened through the seamed addon with its rings failing as `fail`
 * says (the first call of the ring of writes is the probe of the open; the
 * receive ring's first is the first wake-up's), in a fresh namespace: the
 * test frames it receives (their first payload bytes), and every error the
 * addon reported.
 */
const brokenRingTap = (fail: string) =>
  Effect.gen(function* () {
    const addon = yield* loadTapAddon(variant)
    const { ns, ifname } = yield* scratchNamespace
    process.env["EUK_TEST_URING_FAIL"] = fail
    const rings = ringsOpen()
    const device = yield* Effect.acquireRelease(
      Effect.sync(() => addon.openTap(ifname, false, 0, true, false)),
      (d) => Effect.sync(() => addon.close(d.handle)),
    )
    expect(device.ring).toBe(true)
    expect(ringsOpen()).toBe(rings + 1 + (device.multishot ? 1 : 0))
    yield* moveIntoNamespace(ns, ifname, "10.77.0.1/24")
    const received: Array<number> = []
    const errors: Array<number> = []
    addon.start(device.handle, (data, lengths, errno) => {
      const bytes = new Uint8Array(data)
      for (let i = 0, offset = 0; i < lengths.length; offset += lengths[i]!, i++) {
        if (bytes[offset + 12] === 0x88 && bytes[offset + 13] === 0xb5) received.push(bytes[offset + 14]!)
      }
      if (errno !== 0) errors.push(errno)
    })
    return { addon, device, ns, ifname, received, errors, rings }
  })

/** Five test frames from us to the kernel's side. */
const outgoing = Array.from({ length: 5 }, (_, i) => testFrame(BROADCAST, Uint8Array.of(2, 0, 0, 0, 0, 9), i))

describe.skipIf(reason !== undefined)("tap.node addon when its io_uring breaks (root, network namespace)", () => {
  it.live.each([
    { fail: "-,0", when: "on its first call, after reading" },
    { fail: "-,1", when: "on a later wake-up" },
  ])("a receive ring that breaks $when keeps the frames it read; the rest come through the ring of plain reads", ({ fail }) =>
    Effect.gen(function* () {
      const { addon, device, ns, ifname, received, errors, rings } = yield* brokenRingTap(fail)
      if (!device.multishot) return console.log("skipped: this kernel has no multishot reads (Linux 6.7)")
      // Two bursts, so two wake-ups: the receive ring breaks in one of them.
      yield* kernelSends(ns, ifname, 20)
      yield* waitUntil(() => received.length >= 20)
      yield* kernelSends(ns, ifname, 20)
      yield* waitUntil(() => received.length >= 40)
      expect(received).toEqual([...Array.from({ length: 20 }, (_, i) => i), ...Array.from({ length: 20 }, (_, i) => i)])
      expect(ringsOpen()).toBe(rings + 1) // the receive ring was closed, the other kept
      const before = kernelRxPackets(ns, ifname)
      expect(addon.write(device.handle, outgoing, 0)).toEqual({ done: 5, errno: 0 })
      expect(kernelRxPackets(ns, ifname) - before).toBe(5)
      expect(errors).toEqual([])
    }).pipe(Effect.scoped))

  it.live("a ring of plain reads that breaks mid-read keeps the frame it read; the rest, and later writes, go a system call each", () =>
    Effect.gen(function* () {
      // No receive ring; the first read round takes one read, then io_uring_enter() fails for good.
      const { addon, device, ns, ifname, received, errors, rings } = yield* brokenRingTap("1,refuse")
      expect(device.multishot).toBe(false)
      yield* kernelSends(ns, ifname, 40)
      yield* waitUntil(() => received.length >= 40)
      expect(received).toEqual(Array.from({ length: 40 }, (_, i) => i))
      expect(ringsOpen()).toBe(rings) // the ring was closed
      const before = kernelRxPackets(ns, ifname)
      expect(addon.write(device.handle, outgoing, 0)).toEqual({ done: 5, errno: 0 })
      expect(kernelRxPackets(ns, ifname) - before).toBe(5)
      expect(errors).toEqual([])
    }).pipe(Effect.scoped))

  it.live("a ring that breaks on a batch of writes: each frame still goes out once, and reading goes on", () =>
    Effect.gen(function* () {
      // The first batch of writes: io_uring_enter() fails for good without taking any.
      const { addon, device, ns, ifname, received, errors, rings } = yield* brokenRingTap("1:nothing,-")
      const before = kernelRxPackets(ns, ifname)
      expect(addon.write(device.handle, outgoing, 0)).toEqual({ done: 5, errno: 0 })
      expect(kernelRxPackets(ns, ifname) - before).toBe(5)
      expect(ringsOpen()).toBe(rings + (device.multishot ? 1 : 0)) // the receive ring is another
      yield* kernelSends(ns, ifname, 40)
      yield* waitUntil(() => received.length >= 40)
      expect(received).toEqual(Array.from({ length: 40 }, (_, i) => i))
      expect(errors).toEqual([])
    }).pipe(Effect.scoped))
})
