/** Undoing a congestion window cut that D-SACKs show was needless (RFC 3708, RFC 2883). */
import { describe, expect, it } from "vitest"
import { seqDiff } from "../../../src/net/wire/seq.ts"
import { drain, establish } from "./helpers.ts"
import { clean, Sim } from "./sim.ts"
import { pattern } from "./transfer.ts"

/**
 * 200 segments from A to B; the first transmission of each segment in
 * `late` is held back until A has retransmitted it (reordering: the original
 * then arrives ahead of its retransmission), and of each in `lost` dropped.
 */
const transfer = (late: ReadonlyArray<number>, lost: ReadonlyArray<number>) => {
  const sim = new Sim(61, clean)
  const { client, server } = establish(sim)
  const base = client.sndNxt
  const held = new Map<number, Uint8Array>()
  const seen = new Set<number>()
  sim.filter = (from, seg) => {
    const index = seqDiff(seg.sequenceNumber, base) / client.sndMss
    if (from !== sim.a || seg.payload.length === 0 || seen.has(index)) return true
    seen.add(index)
    if (late.includes(index)) held.set(index, new Uint8Array(seg.payload.buffer, 0, seg.headerLength + seg.payload.length))
    return !late.includes(index) && !lost.includes(index)
  }
  const data = pattern(200 * client.sndMss, 61)
  client.send(data, sim.now)
  let ssthreshAtCut: number | undefined
  const received: Array<Uint8Array> = []
  sim.run(() => client.flight === 0 && !client.sendWaiting, () => {
    if (client.retransmissions > 0) {
      ssthreshAtCut ??= client.congestion.ssthresh
      for (const original of held.values()) sim.inject(sim.b, sim.a.address, original)
      held.clear()
    }
    received.push(drain(server, sim.now))
  })
  expect(Buffer.compare(Buffer.concat(received), data)).toBe(0)
  return { client, ssthreshAtCut: ssthreshAtCut! }
}

describe("a congestion window cut for a loss", () => {
  it("is undone when the retransmission is reported received twice: the original was only late", () => {
    const { client, ssthreshAtCut } = transfer([20], [])
    expect(client.retransmissions).toBe(1)
    expect(ssthreshAtCut).toBeLessThan(Number.MAX_SAFE_INTEGER)
    expect(client.cutsUndone).toBe(1)
    // Back to slow start, as before the cut.
    expect(client.congestion.ssthresh).toBe(Number.MAX_SAFE_INTEGER)
  })

  it("stands when the segment was really lost", () => {
    const { client, ssthreshAtCut } = transfer([], [20])
    expect(client.retransmissions).toBe(1)
    expect(client.cutsUndone).toBe(0)
    expect(client.congestion.ssthresh).toBe(ssthreshAtCut)
  })

  it("stands when only some of its retransmissions were needless", () => {
    const { client, ssthreshAtCut } = transfer([20], [22])
    expect(client.retransmissions).toBe(2)
    expect(client.cutsUndone).toBe(0)
    expect(client.congestion.ssthresh).toBe(ssthreshAtCut)
  })
})
