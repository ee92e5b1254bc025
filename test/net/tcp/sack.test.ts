import { describe, expect, it } from "vitest"
import { seqAdd, seqDiff } from "../../../src/net/wire/seq.ts"
import { drain, establish } from "./helpers.ts"
import { clean, Sim } from "./sim.ts"
import { pattern, sha256, transfer } from "./transfer.ts"

describe("SACK (RFC 2018) and loss recovery (RFC 5681, 6582, 6675)", () => {
  it("reports out-of-order data in SACK blocks, most recent first", () => {
    const sim = new Sim(51, clean)
    const { client, server } = establish(sim)
    sim.record = true
    const lost = seqAdd(client.sndNxt, 1448) // the second segment
    sim.filter = (from, seg) => !(from === sim.a && seg.sequenceNumber === lost && seg.payload.length > 0 && !dropped++)
    let dropped = 0
    client.send(pattern(6 * 1448, 1), sim.now)
    sim.run(() => client.flight === 0)
    const withSack = sim.b.sent.filter((s) => s.options.sack !== undefined)
    expect(withSack.length).toBeGreaterThan(0)
    const first = withSack[0]!
    expect(first.acknowledgmentNumber).toBe(lost)
    expect(first.options.sack![0]!.left).toBe(seqAdd(lost, 1448))
    const last = withSack[withSack.length - 1]!
    expect(seqDiff(last.options.sack![0]!.right, lost)).toBe(5 * 1448)
    // Only the lost segment was retransmitted, at the third duplicate ACK (no timeout).
    expect(client.retransmissions).toBe(1)
    expect(drain(server, sim.now)).toHaveLength(6 * 1448)
  })

  it("recovers several losses in one window with fewer retransmissions when SACK is on (measured)", () => {
    const profile = { loss: 0.05, duplicate: 0, reorder: 0, reorderMs: 0, delayMs: 20 }
    const measure = (sack: boolean) => {
      let retransmissions = 0
      let time = 0
      for (const seed of [1, 2, 3, 4]) {
        const sim = new Sim(seed, profile, { sack })
        const data = pattern(2 << 20, seed)
        const r = transfer(sim, data, new Uint8Array(0))
        expect(r.bReceived).toBe(sha256(data))
        retransmissions += r.client.retransmissions
        time += r.simulatedMs
      }
      return { retransmissions, time }
    }
    const withSack = measure(true)
    const without = measure(false)
    expect(withSack.retransmissions).toBeLessThan(without.retransmissions)
    expect(withSack.time).toBeLessThan(without.time)
  })

  it("fast-retransmits with NewReno when the peer does not SACK", () => {
    const sim = new Sim(52, clean, { sack: false })
    const { client, server } = establish(sim)
    const lost = seqAdd(client.sndNxt, 1448)
    let dropped = 0
    sim.filter = (from, seg) => !(from === sim.a && seg.sequenceNumber === lost && seg.payload.length > 0 && !dropped++)
    client.send(pattern(8 * 1448, 1), sim.now)
    const start = sim.now
    sim.run(() => client.flight === 0)
    expect(client.retransmissions).toBe(1)
    expect(sim.now - start).toBeLessThan(200) // recovered before any RTO
    expect(drain(server, sim.now)).toHaveLength(8 * 1448)
  })
})
