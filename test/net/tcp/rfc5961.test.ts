import { beforeEach, describe, expect, it } from "vitest"
import { seqAdd } from "../../../src/net/wire/seq.ts"
import { Flags } from "../../../src/net/wire/tcp.ts"
import { drain, establish, type Pair, spoof } from "./helpers.ts"
import { clean, Sim } from "./sim.ts"

/** Blind attacks (RFC 5961) against the server side of an established pair; B's replies are recorded. */
describe("RFC 5961 hardening", () => {
  let sim: Sim
  let pair: Pair
  const replies = () => sim.b.sent.filter((s) => s.payload.length === 0)

  beforeEach(() => {
    sim = new Sim(21, clean, { timestamps: false })
    pair = establish(sim)
    sim.run(() => false, () => {}, 1000)
    sim.record = true
  })

  it("answers an in-window RST that is not exactly RCV.NXT with a challenge ACK and stays up", () => {
    const { server } = pair
    sim.inject(sim.b, sim.a.address, spoof(server, { seq: seqAdd(server.rcvNxt, 1000), flags: Flags.RST }))
    expect(server.state).toBe("ESTABLISHED")
    expect(replies()).toHaveLength(1)
    expect(replies()[0]!.flags).toBe(Flags.ACK)
    expect(replies()[0]!.acknowledgmentNumber).toBe(server.rcvNxt)
    expect(replies()[0]!.sequenceNumber).toBe(server.sndNxt)
  })

  it("ignores an RST outside the window entirely", () => {
    const { server } = pair
    sim.inject(sim.b, sim.a.address, spoof(server, { seq: seqAdd(server.rcvNxt, 1 << 30), flags: Flags.RST }))
    expect(server.state).toBe("ESTABLISHED")
    expect(replies()).toHaveLength(0)
  })

  it("resets on an RST exactly at RCV.NXT", () => {
    const { server } = pair
    sim.inject(sim.b, sim.a.address, spoof(server, { seq: server.rcvNxt, flags: Flags.RST }))
    expect(server.state).toBe("CLOSED")
    expect(server.closeReason).toBe("reset")
  })

  it("answers a SYN in ESTABLISHED with a challenge ACK, in or out of the window", () => {
    const { server, client } = pair
    sim.inject(sim.b, sim.a.address, spoof(server, { seq: seqAdd(server.rcvNxt, 10), flags: Flags.SYN }))
    sim.inject(sim.b, sim.a.address, spoof(server, { seq: seqAdd(server.rcvNxt, -(1 << 30)), flags: Flags.SYN }))
    expect(server.state).toBe("ESTABLISHED")
    expect(replies().map((s) => s.flags)).toEqual([Flags.ACK, Flags.ACK])
    // The legitimate peer receives the challenge ACK and, having nothing to fix, carries on.
    sim.run(() => false, () => {}, 1000)
    expect(client.state).toBe("ESTABLISHED")
  })

  it("ignores blind data outside the window and acknowledges nothing new", () => {
    const { server } = pair
    const rcvNxt = server.rcvNxt
    const junk = new Uint8Array(100).fill(0x41)
    sim.inject(sim.b, sim.a.address, spoof(server, { seq: seqAdd(rcvNxt, 1 << 30), ack: server.sndNxt, flags: Flags.ACK }, junk))
    sim.inject(sim.b, sim.a.address, spoof(server, { seq: seqAdd(rcvNxt, -5000), ack: server.sndNxt, flags: Flags.ACK }, junk))
    expect(server.rcvNxt).toBe(rcvNxt)
    expect(server.receiveBuffer.readable).toBe(0)
    expect(replies().every((s) => s.acknowledgmentNumber === rcvNxt)).toBe(true)
  })

  it("drops in-window data whose ACK is beyond SND.NXT, with a challenge ACK (RFC 5961 §5)", () => {
    const { server } = pair
    const junk = new Uint8Array(10).fill(0x42)
    sim.inject(sim.b, sim.a.address, spoof(server, { seq: server.rcvNxt, ack: seqAdd(server.sndNxt, 100_000), flags: Flags.ACK }, junk))
    sim.inject(sim.b, sim.a.address, spoof(server, { seq: server.rcvNxt, ack: seqAdd(server.sndUna, -(1 << 30)), flags: Flags.ACK }, junk))
    expect(drain(server, sim.now)).toHaveLength(0)
    expect(replies()).toHaveLength(2)
  })

  it("rate-limits challenge ACKs per connection (RFC 5961 §7)", () => {
    const { server } = pair
    for (let i = 0; i < 50; i++) {
      sim.inject(sim.b, sim.a.address, spoof(server, { seq: seqAdd(server.rcvNxt, 1 + i), flags: Flags.RST }))
    }
    expect(replies()).toHaveLength(10)
    sim.advance(1000)
    sim.inject(sim.b, sim.a.address, spoof(server, { seq: seqAdd(server.rcvNxt, 1), flags: Flags.RST }))
    expect(replies()).toHaveLength(11)
    expect(server.state).toBe("ESTABLISHED")
  })

  it("drops a segment with a bad checksum before any processing", () => {
    const { server } = pair
    const rst = spoof(server, { seq: server.rcvNxt, flags: Flags.RST })
    rst[4] = rst[4]! ^ 0xff // corrupt the sequence number without fixing the checksum
    sim.inject(sim.b, sim.a.address, rst)
    expect(sim.b.engine.stats.segmentsRejected).toBe(1)
    expect(server.state).toBe("ESTABLISHED")
    expect(replies()).toHaveLength(0)
  })

  it("answers segments to nowhere with RST, and never an RST with RST (RFC 9293 §3.10.7.1)", () => {
    const { server } = pair
    const ghost = { ...server, localPort: 9999 } as typeof server
    sim.inject(sim.b, sim.a.address, spoof(ghost, { seq: 5, ack: 77, flags: Flags.ACK }, new Uint8Array(3)))
    sim.inject(sim.b, sim.a.address, spoof(ghost, { seq: 5, flags: Flags.RST }))
    const resets = sim.b.sent.filter((s) => (s.flags & Flags.RST) !== 0)
    expect(resets).toHaveLength(1)
    expect(resets[0]!.sequenceNumber).toBe(77)
  })
})
