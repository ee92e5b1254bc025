import { describe, expect, it } from "vitest"
import type { Connection, TcpState } from "../../../src/net/tcp/connection.ts"
import { Flags } from "../../../src/net/wire/tcp.ts"
import { drain, establish } from "./helpers.ts"
import { clean, Sim } from "./sim.ts"
import { pattern } from "./transfer.ts"

/** Record the states a connection goes through. */
const watch = (c: Connection, sim: Sim): Array<TcpState> => {
  const seen: Array<TcpState> = [c.state]
  const step = () => {
    if (seen[seen.length - 1] !== c.state) seen.push(c.state)
  }
  const run = sim.run.bind(sim)
  sim.run = (done, s = () => {}, limit) => run(done, () => {
    s()
    step()
  }, limit)
  return seen
}

describe("connection states (RFC 9293)", () => {
  it("negotiates MSS, window scaling, SACK and timestamps in the three-way handshake", () => {
    const sim = new Sim(1, clean)
    const { client, server } = establish(sim)
    for (const c of [client, server]) {
      expect(c.state).toBe("ESTABLISHED")
      expect(c.tsOk && c.sackOk && c.wsOk).toBe(true)
      expect(c.rcvShift).toBe(5) // 1 MiB window
      expect(c.sndShift).toBe(5)
      expect(c.sndMss).toBe(1460 - 12) // MSS less the timestamps option
    }
    expect(sim.a.engine.connectionCount).toBe(1)
  })

  it("falls back without options when the peer offers none", () => {
    const sim = new Sim(1, clean, { sack: false, timestamps: false, windowScaling: false }, {})
    const { client, server } = establish(sim)
    for (const c of [client, server]) {
      expect(c.tsOk || c.sackOk || c.wsOk).toBe(false)
      expect(c.sndMss).toBe(1460)
    }
    client.send(pattern(200_000, 1), sim.now)
    sim.run(() => server.receiveBuffer.readable === 200_000)
    expect(Buffer.from(drain(server, sim.now))).toEqual(Buffer.from(pattern(200_000, 1)))
  })

  it("completes a simultaneous open (SYN-SENT → SYN-RECEIVED → ESTABLISHED on both sides)", () => {
    const sim = new Sim(3, clean)
    sim.record = true
    const a = sim.a.engine.connect(sim.b.address, 5000, 0, 6000)
    const b = sim.b.engine.connect(sim.a.address, 6000, 0, 5000)
    if (typeof a === "string" || typeof b === "string") throw new Error("connect failed")
    const seenA = watch(a, sim)
    expect(sim.run(() => a.state === "ESTABLISHED" && b.state === "ESTABLISHED", () => {}, 10_000)).toBe(true)
    expect(seenA).toEqual(["SYN-SENT", "SYN-RECEIVED", "ESTABLISHED"])
    expect(b.state).toBe("ESTABLISHED")
    // Both sent a SYN and then a SYN-ACK.
    expect(sim.a.sent.map((s) => s.flags & (Flags.SYN | Flags.ACK))).toEqual([Flags.SYN, Flags.SYN | Flags.ACK])
    a.send(new TextEncoder().encode("hello"), sim.now)
    b.send(new TextEncoder().encode("world"), sim.now)
    sim.run(() => a.receiveBuffer.readable === 5 && b.receiveBuffer.readable === 5)
    expect(new TextDecoder().decode(drain(b, sim.now))).toBe("hello")
    expect(new TextDecoder().decode(drain(a, sim.now))).toBe("world")
  })

  it("closes simultaneously through CLOSING to TIME-WAIT on both sides", () => {
    const sim = new Sim(4, clean, { mslMs: 1000 })
    const { client, server } = establish(sim)
    const seen = watch(client, sim)
    client.shutdown(sim.now)
    server.shutdown(sim.now)
    expect(sim.run(() => client.state === "TIME-WAIT" && server.state === "TIME-WAIT")).toBe(true)
    expect(seen).toEqual(["ESTABLISHED", "FIN-WAIT-1", "CLOSING", "TIME-WAIT"])
    expect(client.atEndOfStream && server.atEndOfStream).toBe(true)
    sim.run(() => client.state === "CLOSED" && server.state === "CLOSED")
    expect(client.closeReason).toBe("closed")
    expect(sim.a.engine.connectionCount + sim.b.engine.connectionCount).toBe(0)
  })

  it("half-closes: the side that shut down keeps receiving until the other closes", () => {
    const sim = new Sim(5, clean, { mslMs: 1000 })
    const { client, server } = establish(sim)
    const seenClient = watch(client, sim)
    client.shutdown(sim.now)
    sim.run(() => client.state === "FIN-WAIT-2" && server.state === "CLOSE-WAIT")
    expect(server.atEndOfStream).toBe(true)
    expect(client.canSend).toBe(false)
    const data = pattern(300_000, 9)
    let written = 0
    const received: Array<Uint8Array> = []
    sim.run(() => written === data.length && client.atEndOfStream, () => {
      if (written < data.length) written += server.send(data.subarray(written), sim.now)
      else if (server.state === "CLOSE-WAIT") server.close(sim.now)
      received.push(drain(client, sim.now))
    })
    expect(Buffer.concat(received)).toEqual(Buffer.from(data))
    sim.run(() => client.state === "CLOSED" && server.state === "CLOSED")
    expect(seenClient).toEqual(["ESTABLISHED", "FIN-WAIT-1", "FIN-WAIT-2", "TIME-WAIT", "CLOSED"])
    expect(server.closeReason).toBe("closed")
  })

  it("keeps TIME-WAIT for 2×MSL (configurable) and answers a retransmitted FIN there", () => {
    const sim = new Sim(6, clean, { mslMs: 30_000 })
    const { client, server } = establish(sim)
    client.close(sim.now)
    sim.run(() => client.state === "FIN-WAIT-2")
    server.close(sim.now)
    sim.run(() => client.state === "TIME-WAIT")
    const entered = sim.now
    sim.run(() => client.state === "CLOSED")
    expect(sim.now - entered).toBeGreaterThanOrEqual(60_000)
    expect(sim.now - entered).toBeLessThan(60_100)
    expect(server.state).toBe("CLOSED")
  })

  it("reuses a TIME-WAIT 4-tuple for a new connection, from either side", () => {
    const sim = new Sim(7, clean)
    const { client, server, listener } = establish(sim)
    const port = client.localPort
    // The client closed first: it holds TIME-WAIT and connects again from the same port.
    client.close(sim.now)
    sim.run(() => client.state === "FIN-WAIT-2")
    server.close(sim.now)
    sim.run(() => client.state === "TIME-WAIT" && server.state === "CLOSED")
    const again = sim.a.engine.connect(sim.b.address, 80, sim.now, port)
    if (typeof again === "string") throw new Error(again)
    let accepted: Connection | undefined
    sim.run(() => again.state === "ESTABLISHED" && accepted?.state === "ESTABLISHED", () => {
      accepted ??= listener.accept()
    }, 10_000)
    expect(again.state).toBe("ESTABLISHED")
    expect(client.state).toBe("CLOSED")
    // Now the server closes first and holds TIME-WAIT; the client's new SYN reopens the tuple.
    accepted!.close(sim.now)
    sim.run(() => again.state === "CLOSE-WAIT")
    again.close(sim.now)
    sim.run(() => accepted!.state === "TIME-WAIT" && again.state === "CLOSED")
    const third = sim.a.engine.connect(sim.b.address, 80, sim.now, port)
    if (typeof third === "string") throw new Error(third)
    let fresh: Connection | undefined
    expect(sim.run(() => third.state === "ESTABLISHED" && fresh?.state === "ESTABLISHED", () => {
      fresh ??= listener.accept()
    }, 10_000)).toBe(true)
    expect(accepted!.state).toBe("CLOSED")
  })

  it("refuses a connection to a port nobody listens on (RST)", () => {
    const sim = new Sim(8, clean)
    const c = sim.a.engine.connect(sim.b.address, 81, 0)
    if (typeof c === "string") throw new Error(c)
    sim.run(() => c.state === "CLOSED")
    expect(c.closeReason).toBe("refused")
    expect(sim.b.engine.stats.resetsSent).toBe(1)
  })

  it("gives up opening after the SYN retransmissions, with exponential backoff", () => {
    const sim = new Sim(9, clean, { maxSynRetransmissions: 4 })
    sim.record = true
    sim.filter = () => false
    const c = sim.a.engine.connect(sim.b.address, 80, 0)
    if (typeof c === "string") throw new Error(c)
    sim.run(() => c.state === "CLOSED")
    expect(c.closeReason).toBe("timeout")
    expect(c.timeoutDuring).toBe("connect")
    expect(sim.a.sent).toHaveLength(5)
    expect(sim.now).toBe(1000 + 2000 + 4000 + 8000 + 16000)
  })

  it("gives up after the data retransmissions (RFC 6298 give-up bound)", () => {
    const sim = new Sim(10, clean, { maxRetransmissions: 5 })
    const { client } = establish(sim)
    sim.filter = () => false // the path dies
    client.send(pattern(10_000, 1), sim.now)
    const start = sim.now
    sim.run(() => client.state === "CLOSED")
    expect(client.closeReason).toBe("timeout")
    expect(client.timeoutDuring).toBe("transfer")
    // One tail loss probe (RFC 8985), then the five retransmissions of the bound.
    expect(client.lossProbes).toBe(1)
    expect(client.retransmissions).toBe(1 + 5)
    // 6 backed-off timeouts: at least 200 ms · (1 + 2 + … + 32).
    expect(sim.now - start).toBeGreaterThanOrEqual(200 * 63)
  })

  it("resets instead of closing when unread data is pending, and on data after close", () => {
    const sim = new Sim(11, clean)
    const { client, server } = establish(sim)
    client.send(new Uint8Array(100), sim.now)
    sim.run(() => server.receiveBuffer.readable === 100)
    server.close(sim.now)
    expect(server.closeReason).toBe("aborted")
    sim.run(() => client.state === "CLOSED")
    expect(client.closeReason).toBe("reset")
  })
})
