/**
 * Explicit Congestion Notification (RFC 3168) between two engines on the
 * simulated wire (10 ms RTT): negotiation in the handshake, ECN-capable new
 * data, and the answer to a router's Congestion Experienced mark (the
 * receiver echoes ECE until the sender's CWR; the sender halves its window
 * once per window of data, retransmitting nothing).
 */
import { describe, expect, it } from "vitest"
import type { EcnMode } from "../../../src/net/tcp/config.ts"
import { Ecn } from "../../../src/net/wire/ipv4.ts"
import { Flags } from "../../../src/net/wire/tcp.ts"
import { drain, establish } from "./helpers.ts"
import { clean, Sim } from "./sim.ts"
import { pattern } from "./transfer.ts"

const pair = (seed: number, client: EcnMode, server: EcnMode) => {
  const sim = new Sim(seed, clean, { ecn: client }, { ecn: server })
  sim.record = true
  return { sim, ...establish(sim) }
}

describe("ECN (RFC 3168)", () => {
  it("is used only when the client asks and the server accepts", () => {
    const cases: Array<[EcnMode, EcnMode, boolean]> = [
      ["on", "accept", true],
      ["on", "on", true],
      ["on", "off", false],
      ["accept", "accept", false], // by default nobody asks, as on Linux
      ["off", "on", false],
    ]
    for (const [clientMode, serverMode, used] of cases) {
      const { sim, client, server } = pair(91, clientMode, serverMode)
      expect([clientMode, serverMode, client.ecnOk, server.ecnOk]).toEqual([clientMode, serverMode, used, used])
      const syn = sim.a.sent[0]!
      expect(syn.flags & (Flags.ECE | Flags.CWR)).toBe(clientMode === "on" ? Flags.ECE | Flags.CWR : 0)
      const synAck = sim.b.sent[0]!
      expect(synAck.flags & (Flags.ECE | Flags.CWR)).toBe(used ? Flags.ECE : 0)
    }
  })

  it("sends new data ECN-capable, and neither pure ACKs nor retransmissions", () => {
    const { sim, client, server } = pair(92, "on", "accept")
    let dropped = false
    sim.filter = (from, seg) => from !== sim.a || seg.payload.length === 0 || dropped || !(dropped = true) // the first data segment is lost once
    const data = pattern(20 * client.sndMss, 1)
    client.send(data, sim.now)
    sim.run(() => client.flight === 0)
    expect(Buffer.compare(drain(server, sim.now), data)).toBe(0)
    expect(client.retransmissions).toBe(1)
    const marks = sim.a.sent.map((seg, i) => [seg.payload.length > 0, sim.a.sentEcn[i]] as const)
    const dataMarks = marks.filter(([data]) => data).map(([, ecn]) => ecn)
    expect(dataMarks.filter((ecn) => ecn === Ecn.Ect0)).toHaveLength(20) // each segment once
    expect(dataMarks.filter((ecn) => ecn === Ecn.NotEct)).toHaveLength(1) // its retransmission
    expect(sim.b.sentEcn.every((ecn) => ecn === Ecn.NotEct)).toBe(true) // the server's ACKs
  })

  it("answers a congestion mark once per window: ECE until CWR, the window halved, nothing retransmitted", () => {
    const { sim, client, server } = pair(93, "on", "accept")
    const data = pattern(400 * client.sndMss, 2)
    // Grow the window, then a router marks ten data packets of one window.
    client.send(data.subarray(0, 200 * client.sndMss), sim.now)
    sim.run(() => client.flight === 0, () => drain(server, sim.now))
    const grown = client.congestion.cwnd
    let marks = 10
    sim.congested = (from, seg) => from === sim.a && seg.payload.length > 0 && marks-- > 0
    const before = sim.a.sent.length
    client.send(data.subarray(200 * client.sndMss), sim.now)
    sim.run(() => client.flight === 0 && !client.sendWaiting, () => drain(server, sim.now))
    expect(client.ecnReductions).toBe(1)
    // Halved from what it was when the ECE came (it had grown a little since `grown`).
    expect(client.congestion.ssthresh).toBeGreaterThanOrEqual(grown / 2)
    expect(client.congestion.ssthresh).toBeLessThan(0.6 * grown)
    expect(client.retransmissions).toBe(0)
    const cwrs = sim.a.sent.slice(before).filter((seg) => (seg.flags & Flags.CWR) !== 0)
    expect(cwrs).toHaveLength(1)
    const eces = sim.b.sent.filter((seg) => (seg.flags & Flags.ECE) !== 0 && (seg.flags & Flags.SYN) === 0)
    expect(eces.length).toBeGreaterThan(0)
    expect(server.ecnEcho).toBe(false) // the CWR ended the echo
  })
})
