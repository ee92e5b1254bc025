/**
 * Paths that misbehave (a `Netif` between our stack and the TAP), with the
 * Linux kernel as the receiver, in a namespace the test creates. Undoing a
 * needless window cut (RFC 3708, RFC 4015): one data segment held back
 * until we have retransmitted it reaches the kernel twice, it answers with
 * a D-SACK (`TcpExtTCPDSACKOldSent`), and we restore the window. RACK (RFC 8985): when every 50th segment arrives behind the
 * four after it, the kernel's SACKs show the reordering, and after the
 * first time it costs neither retransmissions nor a lasting window cut.
 * Eifel (RFC 3522): when the kernel's ACKs stall on their way for longer
 * than our retransmission timeout, the first ACK after it echoes a
 * timestamp from before it, so the cut is undone and only the segment the
 * timer sent goes out again. Skipped, with the reason printed, like the
 * other kernel tests.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Stream } from "effect"
import { createHash, randomBytes } from "node:crypto"
import type { Netif } from "../../../src/net/Netif.ts"
import type { TcpConfig } from "../../../src/net/tcp/config.ts"
import type { Connection } from "../../../src/net/tcp/connection.ts"
import { connectionOf, directOnTap, KERNEL, kernelCounter, peer, peerReport, tcpKernelSkipReason } from "./kernel.ts"

const reason = tcpKernelSkipReason()
if (reason !== undefined) console.log(`skipping the tests of misbehaving paths: ${reason}`)

const SIZE = 2 * 1024 * 1024

/** The sequence number of the TCP segment with data in Ethernet `frame`, or undefined for any other frame. */
const dataSequence = (frame: Uint8Array): number | undefined => {
  if (frame.length < 34 || frame[12] !== 0x08 || frame[13] !== 0x00 || frame[23] !== 6) return undefined
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength)
  const ipHeader = (frame[14]! & 15) * 4
  const tcp = 14 + ipHeader
  const payload = view.getUint16(16) - ipHeader - (frame[tcp + 12]! >> 4) * 4
  return payload > 0 ? view.getUint32(tcp + 4) : undefined
}

/** `tap` with every batch of frames we send rearranged by `reorder` on its way. */
const reordering = (tap: Netif["Service"], reorder: (frames: ReadonlyArray<Uint8Array>) => ReadonlyArray<Uint8Array>): Netif["Service"] =>
  ({
    ...tap,
    writeBatch: (frames) => tap.writeBatch(reorder(frames)),
    ...(tap.writeNow === undefined ? {} : { writeNow: (frames) => tap.writeNow!(reorder(frames)) }),
    write: (frame) => tap.writeBatch(reorder([frame])),
  })

/**
 * A path that holds our `nth` data segment back until a segment with its
 * sequence number (our retransmission) has gone out, and sends it right
 * after that one: the receiver gets it twice, the original last.
 */
const lateOriginal = (nth: number) => (tap: Netif["Service"]): Netif["Service"] => {
  let count = 0
  let held: { readonly sequence: number; readonly frame: Uint8Array } | undefined
  let delivered = false
  const reorder = (frames: ReadonlyArray<Uint8Array>): ReadonlyArray<Uint8Array> => {
    const out: Array<Uint8Array> = []
    for (const frame of frames) {
      const sequence = delivered ? undefined : dataSequence(frame)
      if (sequence !== undefined && held === undefined && ++count === nth) {
        held = { sequence, frame: frame.slice() } // the stack reuses the buffer once the write returns
        continue
      }
      out.push(frame)
      if (held !== undefined && sequence === held.sequence) {
        out.push(held.frame)
        delivered = true
      }
    }
    return out
  }
  return reordering(tap, reorder)
}

/** A path that sends every `every`th data segment after the `behind` data segments that follow it (or last in its batch of frames, if fewer follow). */
const everyNthLate = (every: number, behind: number) => (tap: Netif["Service"]): Netif["Service"] => {
  let count = 0
  let held: Uint8Array | undefined
  let after = 0
  const reorder = (frames: ReadonlyArray<Uint8Array>): ReadonlyArray<Uint8Array> => {
    const out: Array<Uint8Array> = []
    for (const frame of frames) {
      if (dataSequence(frame) === undefined) {
        out.push(frame)
        continue
      }
      if (held === undefined && ++count % every === 0) {
        held = frame.slice()
        after = 0
        continue
      }
      out.push(frame)
      if (held !== undefined && ++after === behind) {
        out.push(held)
        held = undefined
      }
    }
    if (held !== undefined) out.push(held)
    held = undefined
    return out
  }
  return reordering(tap, reorder)
}

/**
 * A path whose frames toward us stop for `ms` once, when the `at`th batch of
 * them comes (`onSpike` is told when they flow again): a delay spike,
 * nothing lost.
 */
const delaySpike = (at: number, ms: number, onSpike: () => void) => (tap: Netif["Service"]): Netif["Service"] => {
  let batches = 0
  const frames = Stream.mapEffect(tap.frames, (batch) =>
    ++batches === at ? Effect.as(Effect.andThen(Effect.sleep(ms), Effect.sync(onSpike)), batch) : Effect.succeed(batch))
  const { takeNow: _, ...rest } = tap // every batch through `frames`, to be held there
  return { ...rest, frames }
}

/**
 * Our stack (TCP configured by `config`) on a TAP behind `path` sends SIZE
 * random bytes to the kernel's sink in a fresh namespace, and checks that
 * they arrived intact; `opened` gets the connection once it is open.
 */
const sendThrough = (
  path: (tap: Netif["Service"]) => Netif["Service"],
  port: number,
  config: Partial<TcpConfig> = {},
  opened: (c: Connection) => void = () => {},
) =>
  Effect.gen(function* () {
    const { ns, stack, engine } = yield* directOnTap({ config }, false, {}, path)
    const sink = yield* peer(ns, "sink-listen", KERNEL, port)
    yield* sink.printed("ready")
    const data = randomBytes(SIZE)
    return yield* Effect.scoped(Effect.gen(function* () {
      const flow = yield* stack.tcp.connect({ address: KERNEL, port })
      const c = connectionOf(engine, flow)
      opened(c)
      yield* flow.write(data)
      yield* flow.shutdown
      const report = yield* peerReport(sink)
      expect(report.bytes).toBe(SIZE)
      expect(report.sha256).toBe(createHash("sha256").update(data).digest("hex"))
      return { ns, c }
    }))
  })

describe.skipIf(reason !== undefined)("paths that reorder or stall, with the kernel (root, network namespace)", () => {
  it.live("a retransmission the kernel reports as needless with a D-SACK gets its window cut undone", () =>
    Effect.gen(function* () {
      const { ns, c } = yield* sendThrough(lateOriginal(40), 5070)
      // One repair (a tail loss probe, also answered with a D-SACK, may follow a late last ACK), one cut, undone.
      expect(c.retransmissions - c.lossProbes).toBe(1)
      expect(kernelCounter(ns, "TcpExtTCPDSACKOldSent")).toBe(c.retransmissions)
      expect(c.cutsUndone).toBe(1)
    }).pipe(Effect.scoped), 60_000)

  it.live("every 50th segment arriving behind the four after it costs no retransmission and no lasting window cut (RACK)", () =>
    Effect.gen(function* () {
      const { ns, c } = yield* sendThrough(everyNthLate(50, 4), 5071)
      const reorderings = Math.floor(SIZE / c.sndMss / 50)
      console.log(`reordered ${reorderings} times: ${c.retransmissions} retransmissions, ${c.cutsUndone} cuts undone, ssthresh ${c.congestion.ssthresh}`)
      expect(c.rack.reorderingSeen).toBe(true)
      // Only a reordering before any was seen is taken for a loss (RFC 6675's rule): the first, and those that
      // come before its D-SACK is back, and (on a loaded machine) one held longer than RACK's window; the
      // D-SACKs undo the cuts. Taking every reordering for a loss cuts the window some 20 times of 28.
      expect(c.retransmissions - c.lossProbes).toBeLessThan(reorderings / 4)
      expect(c.cutsUndone).toBeLessThan(reorderings / 4)
      expect(kernelCounter(ns, "TcpExtTCPDSACKOldSent")).toBe(c.retransmissions)
      expect(c.congestion.ssthresh).toBe(Number.MAX_SAFE_INTEGER)
    }).pipe(Effect.scoped), 60_000)

  it.live("ACKs late beyond the retransmission timeout: the timestamps they echo undo the cut (Eifel), without SACK to tell", () =>
    Effect.gen(function* () {
      let connection: Connection | undefined
      let timedOut = false
      const spike = delaySpike(8, 400, () => (timedOut = (connection?.retries ?? 0) > 0))
      const { c } = yield* sendThrough(spike, 5072, { sack: false }, (opened) => (connection = opened))
      expect(timedOut).toBe(true)
      expect(c.retransmissions).toBe(1) // the segment the timer sent; the late ACKs then covered everything
      expect(c.cutsUndone).toBe(1)
      expect(c.congestion.ssthresh).toBe(Number.MAX_SAFE_INTEGER)
    }).pipe(Effect.scoped), 60_000)
})
