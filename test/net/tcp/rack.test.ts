/**
 * RACK (RFC 8985 §6), loss detection by time: a loss with too few segments
 * after it for DupThresh is repaired after a reordering window, before a
 * loss probe or the retransmission timeout; and once the receiver was seen
 * to get data out of order, a segment late by less than the window is not
 * sent again, though more than DupThresh segments after it arrived.
 */
import { describe, expect, it } from "vitest"
import { seqDiff } from "../../../src/net/wire/seq.ts"
import type { Segment } from "../../../src/net/wire/tcp.ts"
import { drain, establish } from "./helpers.ts"
import { clean, Sim } from "./sim.ts"
import { pattern } from "./transfer.ts"

/** The raw packet of a parsed segment (parse keeps the packet's buffer under the payload view). */
const packetOf = (seg: Segment): Uint8Array => new Uint8Array(seg.payload.buffer, 0, seg.headerLength + seg.payload.length)

describe("RACK loss detection", () => {
  it("repairs a loss followed by a single segment after a quarter RTT, without a loss probe or timeout", () => {
    const sim = new Sim(71, clean) // 5 ms each way
    const { client, server } = establish(sim)
    const base = client.sndNxt
    const segments = 12
    const lost = 10 // one segment after it: DupThresh (3) is never reached
    const sentAt: Array<number> = []
    sim.filter = (from, seg) => {
      if (from !== sim.a || seg.payload.length === 0 || seqDiff(seg.sequenceNumber, base) / client.sndMss !== lost) return true
      sentAt.push(sim.now)
      return sentAt.length > 1
    }
    let sackedAt: number | undefined
    sim.arrived = (to, seg) => {
      if (to === sim.a && seg.options.sack !== undefined) sackedAt ??= sim.now
    }
    const data = pattern(segments * client.sndMss, 71)
    client.send(data, sim.now)
    const received: Array<Uint8Array> = []
    sim.run(() => client.flight === 0 && !client.sendWaiting, () => received.push(drain(server, sim.now)))
    expect(Buffer.compare(Buffer.concat(received), data)).toBe(0)
    expect(client.retransmissions).toBe(1)
    expect(client.lossProbes).toBe(0)
    // Retransmitted a quarter of the 10 ms minimum RTT after the SACK showed the gap (a probe would wait two RTTs).
    expect(sentAt).toHaveLength(2)
    expect(sentAt[1]! - sackedAt!).toBeCloseTo(2.5, 5)
  })

  it("once reordering was seen, does not resend a segment late by less than the reordering window", () => {
    const sim = new Sim(72, clean)
    const { client, server } = establish(sim)
    const base = client.sndNxt
    // Segment 30 arrives after its retransmission (a D-SACK shows reordering); segment 150 arrives 2 ms late.
    const late = new Map([[30, 40], [150, 2]])
    const seen = new Set<number>()
    sim.filter = (from, seg) => {
      const index = seqDiff(seg.sequenceNumber, base) / client.sndMss
      if (from !== sim.a || seg.payload.length === 0 || seen.has(index) || !late.has(index)) return true
      seen.add(index)
      sim.deliverAt(sim.b, sim.a.address, packetOf(seg).slice(), sim.now + 5 + late.get(index)!)
      return false
    }
    const data = pattern(200 * client.sndMss, 72)
    client.send(data, sim.now)
    const received: Array<Uint8Array> = []
    sim.run(() => client.flight === 0 && !client.sendWaiting, () => received.push(drain(server, sim.now)))
    expect(Buffer.compare(Buffer.concat(received), data)).toBe(0)
    expect(client.rack.reorderingSeen).toBe(true)
    // Only segment 30 went out again: DupThresh alone would have resent 150 too, with more than three segments SACKed above it.
    expect(client.retransmissions).toBe(1)
  })
})
