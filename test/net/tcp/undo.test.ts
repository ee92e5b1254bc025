/** Undoing a congestion window cut that proves needless: D-SACKs (RFC 3708, RFC 2883), timestamps after a timeout (Eifel, RFC 3522). */
import { describe, expect, it } from "vitest"
import { seqDiff } from "../../../src/net/wire/seq.ts"
import { drain, dropTransmissions, establish } from "./helpers.ts"
import { clean, Sim } from "./sim.ts"
import type { TcpConfig } from "../../../src/net/tcp/config.ts"
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

  it("is undone when the missing segment arrives in the same batch of ACKs, before it was retransmitted", () => {
    const sim = new Sim(62, clean)
    const { client } = establish(sim)
    client.send(pattern(40 * client.sndMss, 61), sim.now) // a window of 10 segments and more
    sim.run(() => client.flight === 0 && !client.sendWaiting)
    const base = client.sndNxt
    // B's ACKs are held; segment 3 reaches B after 4..9 (B SACKs them, then ACKs all), all within 6 ms.
    const acks: Array<Uint8Array> = []
    let late: Uint8Array | undefined
    sim.filter = (from, seg) => {
      if (from === sim.b) acks.push(new Uint8Array(seg.payload.buffer, 0, seg.headerLength + seg.payload.length).slice())
      else if (seg.payload.length > 0 && seqDiff(seg.sequenceNumber, base) === 3 * client.sndMss && late === undefined) {
        late = new Uint8Array(seg.payload.buffer, 0, seg.headerLength + seg.payload.length).slice()
      } else return true
      return false
    }
    client.send(pattern(10 * client.sndMss, 62), sim.now)
    expect(seqDiff(client.sndNxt, base)).toBe(10 * client.sndMss)
    sim.advance(6)
    sim.inject(sim.b, sim.a.address, late!)
    const ssthresh = client.congestion.ssthresh
    // The device read the ACKs in one batch: the SACKs start a recovery, the last ACK ends it before any output.
    sim.a.engine.beginBatch()
    for (const ack of acks) sim.a.engine.input(sim.b.address, sim.a.address, ack, 0, ack.length, sim.now, false, 0)
    sim.a.engine.endBatch(sim.now)
    expect(client.flight).toBe(0)
    expect(client.retransmissions).toBe(0)
    expect(client.cutsUndone).toBe(1)
    expect(client.congestion.ssthresh).toBe(ssthresh)
  })

  it("stands when only some of its retransmissions were needless", () => {
    const { client, ssthreshAtCut } = transfer([20], [22])
    expect(client.retransmissions).toBe(2)
    expect(client.cutsUndone).toBe(0)
    expect(client.congestion.ssthresh).toBe(ssthreshAtCut)
  })
})

/**
 * 100 segments from A to B without SACK; once 30 are acknowledged, B's ACKs
 * are held back until A's retransmission timer fires, then delivered: a
 * delay spike, nothing lost.
 */
const delaySpike = (config: Partial<TcpConfig>) => {
  const sim = new Sim(63, clean, { sack: false, ...config })
  const { client, server } = establish(sim)
  const base = client.sndNxt
  const data = pattern(100 * client.sndMss, 63)
  client.send(data, sim.now)
  sim.run(() => seqDiff(client.sndUna, base) >= 30 * client.sndMss)
  const cwndBefore = client.congestion.cwnd
  const held: Array<Uint8Array> = []
  sim.filter = (from, seg) => {
    if (from !== sim.b) return true
    held.push(new Uint8Array(seg.payload.buffer, 0, seg.headerLength + seg.payload.length))
    return false
  }
  sim.run(() => client.retries > 0)
  sim.filter = () => true
  for (const ack of held) sim.inject(sim.a, sim.b.address, ack)
  sim.run(() => client.flight === 0 && !client.sendWaiting)
  expect(Buffer.compare(drain(server, sim.now), data)).toBe(0)
  return { client, cwndBefore }
}

describe("a congestion window cut for a timeout", () => {
  it("is undone when the first ACK after it echoes a timestamp from before it, and the retransmissions stop (Eifel)", () => {
    const { client, cwndBefore } = delaySpike({})
    expect(client.cutsUndone).toBe(1)
    expect(client.congestion.cwnd).toBeGreaterThanOrEqual(cwndBefore)
    // Only the segment the timer sent again, besides any tail loss probe: no go-back-N over what was in flight.
    expect(client.retransmissions - client.lossProbes).toBe(1)
  })

  it("stands without timestamps, which alone could tell (no SACK here)", () => {
    const { client, cwndBefore } = delaySpike({ timestamps: false })
    expect(client.cutsUndone).toBe(0)
    expect(client.congestion.cwnd).toBeLessThan(cwndBefore)
  })

  it("stands when the segment was really lost: the ACK echoes its retransmission", () => {
    const sim = new Sim(64, clean, { sack: false })
    const { client, server } = establish(sim)
    const data = pattern(10 * client.sndMss, 64)
    // The last segment and its tail loss probe are lost: the timer repairs it.
    sim.filter = dropTransmissions(sim, client, [9], 2)
    client.send(data, sim.now)
    let timedOut = false
    sim.run(() => client.flight === 0 && !client.sendWaiting, () => (timedOut ||= client.retries > 0))
    expect(Buffer.compare(drain(server, sim.now), data)).toBe(0)
    expect(timedOut).toBe(true)
    expect(client.cutsUndone).toBe(0)
  })
})
