/**
 * Tail loss probes (RFC 8985 §7): when the last segments of a flight are
 * lost, no duplicate ACKs come to trigger fast recovery, and without a
 * probe only the retransmission timeout (at least 200 ms) would repair them.
 * The simulated link has a 10 ms RTT.
 */
import { describe, expect, it } from "vitest"
import { drain, dropTransmissions, establish } from "./helpers.ts"
import { clean, Sim } from "./sim.ts"
import { pattern } from "./transfer.ts"

describe("tail loss probe (RFC 8985 §7)", () => {
  it("repairs the last three segments of a flight in a few RTTs, not at the RTO", () => {
    const sim = new Sim(61, clean)
    const { client, server } = establish(sim)
    const data = pattern(10 * client.sndMss, 3)
    sim.filter = dropTransmissions(sim, client, [7, 8, 9])
    const start = sim.now
    client.send(data, sim.now)
    sim.run(() => client.flight === 0)
    expect(sim.now - start).toBeLessThan(100)
    expect(client.lossProbes).toBe(1)
    expect(client.retransmissions).toBe(3) // the probe (segment 9), then 7 and 8 in the recovery it started
    const got = drain(server, sim.now)
    expect(got.length).toBe(data.length)
    expect(Buffer.compare(got, data)).toBe(0)
  })

  it("stands in for the RTO for a lone lost segment: the window is halved, not collapsed", () => {
    const sim = new Sim(62, clean)
    const { client, server } = establish(sim)
    sim.filter = dropTransmissions(sim, client, [0])
    client.send(pattern(client.sndMss, 4), sim.now)
    sim.run(() => client.flight === 0)
    expect(client.lossProbes).toBe(1)
    expect(client.retransmissions).toBe(1)
    expect(client.retries).toBe(0) // no timeout fired, so no backoff
    // The next data goes beyond the probe: its ACK says the probe repaired a loss.
    const before = client.congestion.cwnd
    client.send(pattern(client.sndMss, 5), sim.now)
    sim.run(() => client.flight === 0)
    expect(client.congestion.ssthresh).toBe(Math.max(before / 2, 2 * client.sndMss))
    expect(client.congestion.cwnd).toBeGreaterThan(client.sndMss)
    expect(drain(server, sim.now)).toHaveLength(2 * client.sndMss)
  })

  it("a probe whose original did arrive (its ACKs were lost) is D-SACKed and leaves the window alone", () => {
    const sim = new Sim(63, clean)
    const { client, server } = establish(sim)
    // Every ACK from the server is lost until the probe goes out.
    sim.filter = (from) => from !== sim.b || client.lossProbes > 0
    client.send(pattern(4 * client.sndMss, 6), sim.now)
    sim.run(() => client.flight === 0)
    expect(client.lossProbes).toBe(1)
    expect(client.probeEnd).toBeUndefined()
    // More data, ACKed beyond the probe: no window reduction follows.
    client.send(pattern(4 * client.sndMss, 7), sim.now)
    sim.run(() => client.flight === 0)
    expect(client.congestion.ssthresh).toBe(Number.MAX_SAFE_INTEGER)
    expect(drain(server, sim.now)).toHaveLength(8 * client.sndMss)
  })

  it("is not used without SACK: the RTO repairs the tail", () => {
    const sim = new Sim(64, clean, { sack: false })
    const { client, server } = establish(sim)
    sim.filter = dropTransmissions(sim, client, [7, 8, 9])
    const start = sim.now
    client.send(pattern(10 * client.sndMss, 8), sim.now)
    sim.run(() => client.flight === 0)
    expect(client.lossProbes).toBe(0)
    expect(sim.now - start).toBeGreaterThanOrEqual(200)
    expect(drain(server, sim.now)).toHaveLength(10 * client.sndMss)
  })

  describe("after a stall of our own (its timers run first, as Node's do, before the ACKs that came meanwhile)", () => {
    /** Our host stalls for `ms`, then runs its timers before any input. */
    const stallClient = (sim: Sim, ms: number) => {
      sim.now += ms
      sim.a.engine.onTimers(sim.now)
    }

    it("restarts the overdue probe and retransmission timers instead of firing them", () => {
      const sim = new Sim(65, clean)
      const { client, server } = establish(sim)
      const data = pattern(10 * client.sndMss, 9)
      client.send(data, sim.now)
      stallClient(sim, 300) // past the probe (10 ms) and the retransmission timeout (200 ms)
      expect(client.lossProbes).toBe(0)
      expect(client.retransmissions).toBe(0)
      expect(client.probeAt).toBeGreaterThan(sim.now)
      expect(client.rtxAt).toBeGreaterThan(sim.now)
      sim.run(() => client.flight === 0)
      expect(client.lossProbes).toBe(0)
      expect(client.retransmissions).toBe(0)
      expect(client.congestion.ssthresh).toBe(Number.MAX_SAFE_INTEGER)
      expect(Buffer.compare(drain(server, sim.now), data)).toBe(0)
    })

    it("restarts a timer once: overdue again, it fires, and the lost tail is repaired", () => {
      const sim = new Sim(66, clean)
      const { client, server } = establish(sim)
      const base = client.sndNxt
      sim.filter = dropTransmissions(sim, client, [8, 9])
      const data = pattern(10 * client.sndMss, 10)
      client.send(data, sim.now)
      sim.run(() => client.sndUna === (base + 8 * client.sndMss) >>> 0)
      expect(client.lossProbes).toBe(0)
      stallClient(sim, 300)
      expect(client.lossProbes).toBe(0)
      stallClient(sim, 300)
      expect(client.lossProbes).toBe(1)
      sim.run(() => client.flight === 0)
      expect(Buffer.compare(drain(server, sim.now), data)).toBe(0)
    })
  })
})
