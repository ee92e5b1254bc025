/**
 * Congestion window validation: the window grows only while it is in use
 * (Linux's `tcp_is_cwnd_limited`, the concern of RFC 7661). A sender held
 * back by its application keeps a window near what it has shown the path
 * can take, rather than one that would let a sudden burst flood it; and
 * after an idle spell longer than a retransmission timeout the window starts
 * again from the initial one (RFC 5681 §4.1). The simulated link has a
 * 10 ms RTT.
 */
import { describe, expect, it } from "vitest"
import { drain, establish } from "./helpers.ts"
import { clean, Sim } from "./sim.ts"
import { pattern } from "./transfer.ts"

describe("congestion window validation and restart after idle", () => {
  it("does not grow while the application keeps the window unused, and grows again once it fills it", () => {
    const sim = new Sim(71, clean)
    const { client, server } = establish(sim)
    const initial = client.congestion.cwnd
    // 200 round trips with two segments each: 400 segments acknowledged.
    for (let round = 0; round < 200; round++) {
      client.send(pattern(2 * client.sndMss, round), sim.now)
      sim.run(() => client.flight === 0)
      drain(server, sim.now)
    }
    // Without validation slow start would have grown it by every acknowledged segment, to 400 more.
    expect(client.congestion.cwnd).toBeLessThanOrEqual(Math.max(initial, 4 * client.sndMss))
    // A bulk transfer fills the window, and it grows as before.
    const bulk = pattern(2000 * client.sndMss, 7)
    client.send(bulk, sim.now)
    sim.run(() => client.flight === 0 && !client.sendWaiting, () => drain(server, sim.now))
    expect(client.congestion.cwnd).toBeGreaterThan(64 * client.sndMss)
  })

  it("restarts from the initial window after more than a retransmission timeout without sending (RFC 5681 §4.1)", () => {
    const sim = new Sim(72, clean)
    const { client, server } = establish(sim)
    const initial = client.congestion.cwnd
    const burst = (seed: number) => {
      client.send(pattern(200 * client.sndMss, seed), sim.now)
      const inFlight = client.flight // what went out at once, before any ACK
      sim.run(() => client.flight === 0 && !client.sendWaiting, () => drain(server, sim.now))
      return inFlight
    }
    burst(1)
    const grown = client.congestion.cwnd
    expect(grown).toBeGreaterThan(64 * client.sndMss)
    // Right after the first burst, much of the grown window goes out at once.
    expect(burst(2)).toBeGreaterThan(16 * client.sndMss)
    // After a second of silence (the RTO is 200 ms here) only the initial window does.
    sim.advance(1000)
    expect(burst(3)).toBe(initial)
    expect(client.congestion.ssthresh).toBeGreaterThanOrEqual((3 * grown) / 4)
  })
})
