import { fc, test } from "@fast-check/vitest"
import { describe, expect, it } from "vitest"
import { clean, Sim } from "./sim.ts"
import { pattern, sha256, transfer } from "./transfer.ts"

const hostile = { loss: 0.1, duplicate: 0.05, reorder: 0.2, reorderMs: 30, delayMs: 10 }
const MiB = 1 << 20

describe("bulk transfer over the simulated wire", () => {
  it("moves 1 MiB each way intact on a clean wire, without retransmissions", () => {
    const sim = new Sim(1, clean)
    const up = pattern(MiB, 1)
    const down = pattern(MiB, 2)
    const r = transfer(sim, up, down)
    expect(r.completed).toBe(true)
    expect(r.bReceived).toBe(sha256(up))
    expect(r.aReceived).toBe(sha256(down))
    expect(r.client.retransmissions).toBe(0)
    expect(r.server?.retransmissions).toBe(0)
  })

  it("with segmentation offload, sends whole-MSS bursts of up to 64 KiB and still moves 4 MiB intact under loss", () => {
    const sim = new Sim(11, hostile, {}, {}, 65535)
    sim.record = true
    const up = pattern(4 * MiB, 11)
    const r = transfer(sim, up, new Uint8Array(0))
    expect(r.completed).toBe(true)
    expect(r.bReceived).toBe(sha256(up))
    const mss = r.client.sndMss
    const data = sim.a.sent.filter((s) => s.payload.length > 0)
    expect(Math.max(...data.map((s) => s.payload.length))).toBeGreaterThan(20 * mss)
    expect(Math.max(...data.map((s) => s.payload.length))).toBeLessThanOrEqual(65535 - 20 - 60)
    // A burst is cut to whole segments of the link's size (its MSS less the SACK blocks it carries).
    const ragged = data.filter((s) => {
      const room = mss - (s.options.sack === undefined ? 0 : 4 + 8 * s.options.sack.length)
      return s.payload.length > room && s.payload.length % room !== 0 && (s.flags & 0x08) === 0
    })
    expect(ragged).toEqual([])
  })

  it("without segmentation offload, never sends a segment above the MSS", () => {
    const sim = new Sim(12, clean)
    sim.record = true
    const r = transfer(sim, pattern(MiB, 12), new Uint8Array(0))
    expect(r.completed).toBe(true)
    expect(Math.max(...sim.a.sent.map((s) => s.payload.length))).toBe(r.client.sndMss)
  })

  for (const seed of [7, 2024]) {
    it(`moves 10 MiB each way intact under 10% loss, duplication, reordering and delay (seed ${seed})`, () => {
      const sim = new Sim(seed, hostile)
      const up = pattern(10 * MiB, seed)
      const down = pattern(10 * MiB, seed + 1)
      const r = transfer(sim, up, down)
      expect(r.completed).toBe(true)
      expect(r.bReceived).toBe(sha256(up))
      expect(r.aReceived).toBe(sha256(down))
      // Losses were repaired by retransmission, not luck.
      expect(r.client.retransmissions).toBeGreaterThan(500)
    })
  }

  // At 25% loss each way, ten retransmission timeouts in a row (our default limit) happen now and
  // then, and the connection rightly gives up: fast-check's seeds -981298150 and 5 each drew such
  // a case ([19, 143081, 0.2486, false, false] and [79062490, 150604, 0.2484, true, false]). The
  // property is about the stream, so it allows Linux's 15 (tcp_retries2), and its cases come from a
  // fixed seed, so that every run tries the same ones.
  test.prop([
    fc.integer({ min: 0, max: 2 ** 31 }),
    fc.integer({ min: 1, max: 200_000 }),
    fc.double({ min: 0, max: 0.25, noNaN: true }),
    fc.boolean(),
    fc.boolean(),
  ], {
    numRuns: 1000,
    seed: 5,
  })("the received stream always equals the sent one, with or without SACK and timestamps", (seed, size, loss, sack, timestamps) => {
    const sim = new Sim(seed, { loss, duplicate: 0.05, reorder: 0.3, reorderMs: 40, delayMs: 5 }, { sack, timestamps, maxRetransmissions: 15 })
    const up = pattern(size, seed)
    const down = pattern(size >> 1, seed + 1)
    const r = transfer(sim, up, down)
    expect(r.completed).toBe(true)
    expect(r.bReceived).toBe(sha256(up))
    expect(r.aReceived).toBe(sha256(down))
  })
})
