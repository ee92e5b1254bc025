/**
 * Undoing a needless window cut (RFC 3708, RFC 4015) with the Linux kernel
 * as the receiver, in a namespace the test creates: a network path that
 * reorders (a `Netif` between our stack and the TAP) holds one of our data
 * segments back until we have retransmitted it, then delivers it late. The
 * kernel's SACKs for the segments after the gap make us retransmit and cut
 * the window; the late original then reaches the kernel as a duplicate, it
 * answers with a D-SACK (`TcpExtTCPDSACKOldSent`), and we restore the
 * window. Skipped, with the reason printed, like the other kernel tests.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { createHash, randomBytes } from "node:crypto"
import type { Netif } from "../../../src/net/Netif.ts"
import { connectionOf, directOnTap, KERNEL, kernelCounter, peer, peerReport, tcpKernelSkipReason } from "./kernel.ts"

const reason = tcpKernelSkipReason()
if (reason !== undefined) console.log(`skipping the window-cut undo test: ${reason}`)

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
  return { ...tap, writeBatch: (frames) => tap.writeBatch(reorder(frames)), write: (frame) => tap.writeBatch(reorder([frame])) }
}

describe.skipIf(reason !== undefined)("window-cut undo with the kernel (root, network namespace)", () => {
  it.live("a retransmission the kernel reports as needless with a D-SACK gets its window cut undone", () =>
    Effect.gen(function* () {
      const { ns, stack, engine } = yield* directOnTap({}, false, {}, lateOriginal(40))
      const sink = yield* peer(ns, "sink-listen", KERNEL, 5070)
      yield* sink.printed("ready")
      const dsacksSent = kernelCounter(ns, "TcpExtTCPDSACKOldSent")
      const data = randomBytes(SIZE)
      yield* Effect.scoped(Effect.gen(function* () {
        const flow = yield* stack.tcp.connect({ address: KERNEL, port: 5070 })
        const c = connectionOf(engine, flow)
        yield* flow.write(data)
        yield* flow.shutdown
        const report = yield* peerReport(sink)
        expect(report.bytes).toBe(SIZE)
        expect(report.sha256).toBe(createHash("sha256").update(data).digest("hex"))
        // One repair (a tail loss probe, also answered with a D-SACK, may follow a late last ACK), one cut, undone.
        expect(c.retransmissions - c.lossProbes).toBe(1)
        expect(kernelCounter(ns, "TcpExtTCPDSACKOldSent") - dsacksSent).toBe(c.retransmissions)
        expect(c.cutsUndone).toBe(1)
      }))
    }).pipe(Effect.scoped), 60_000)
})
