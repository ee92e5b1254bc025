import { describe, expect, it } from "vitest"
import { seqAdd, seqDiff } from "../../../src/net/wire/seq.ts"
import { Flags } from "../../../src/net/wire/tcp.ts"
import { drain, establish } from "./helpers.ts"
import { clean, Sim } from "./sim.ts"
import { pattern } from "./transfer.ts"

/**
 * A pair whose B has a 64 KiB receive buffer, warmed up until that window,
 * not the congestion window, bounds A's bursts, then all acknowledged.
 * `feed` has A send more and B read; `received(n)` is what B reads next.
 */
const windowBound = (seed: number) => {
  const sim = new Sim(seed, clean, { receiveBuffer: 64 * 1024 })
  const { client, server } = establish(sim)
  const data = pattern(2_000_000, seed)
  let written = 0
  let read = 0
  const feed = () => {
    if (written < data.length) written += client.send(data.subarray(written), sim.now)
    read += drain(server, sim.now).length
  }
  sim.run(() => client.congestion.cwnd > 64 * 1024, feed)
  sim.run(() => client.flight === 0, () => (read += drain(server, sim.now).length))
  return { sim, client, server, feed, received: (n: number) => data.subarray(read, read + n) }
}

/** A's data segments sent by `send`, held back from the wire: to hand to B as one batch, as a device read would. */
const holdBurst = (sim: Sim, send: () => void): Array<Uint8Array> => {
  const held: Array<Uint8Array> = []
  sim.filter = (from, seg) => {
    if (from !== sim.a || seg.payload.length === 0) return true
    held.push(new Uint8Array(seg.payload.buffer, 0, seg.headerLength + seg.payload.length).slice())
    return false
  }
  send()
  sim.filter = () => true
  return held
}

describe("flow control, timestamps and probes", () => {
  it("stops at a zero window, probes it, and resumes on the window update", () => {
    const sim = new Sim(31, clean, { receiveBuffer: 64 * 1024 })
    const { client, server } = establish(sim)
    sim.record = true
    const data = pattern(300_000, 3)
    let written = 0
    // The server does not read: the client fills the window and stalls.
    sim.run(() => client.sndWnd === 0 && client.flight === 0 && client.persistAt !== undefined, () => {
      if (written < data.length) written += client.send(data.subarray(written), sim.now)
    })
    expect(server.receiveBuffer.readable).toBeGreaterThan(64 * 1024 - 1448)
    const stalledAt = sim.now
    sim.advance(20_000)
    const probes = sim.a.sent.filter((s) => s.payload.length === 0 && s.sequenceNumber === seqAdd(client.sndUna, -1))
    expect(probes.length).toBeGreaterThanOrEqual(3)
    expect(probes.length).toBeLessThan(20) // backed off
    expect(client.state).toBe("ESTABLISHED")
    expect(sim.now - stalledAt).toBeGreaterThanOrEqual(20_000)
    // The application reads: a window update restarts the transfer, which completes.
    const received: Array<Uint8Array> = []
    sim.run(() => written === data.length && received.reduce((n, d) => n + d.length, 0) === data.length, () => {
      if (written < data.length) written += client.send(data.subarray(written), sim.now)
      received.push(drain(server, sim.now))
    })
    expect(Buffer.concat(received)).toEqual(Buffer.from(data))
  })

  it("sendAll moves the rest of a write in as ACKs free room, and tells the writer once it is all in", () => {
    const sim = new Sim(36, clean, { sendBuffer: 16 * 1024 })
    const { client, server } = establish(sim)
    const data = pattern(100_000, 6)
    let toldWhileWaiting = 0
    let told = 0
    client.notify = () => (client.sendWaiting ? toldWhileWaiting++ : told++)
    expect(client.sendAll(data, sim.now)).toBe(false)
    expect(client.sendWaiting).toBe(true)
    expect(client.sendBuffer.length).toBe(16 * 1024)
    const received: Array<Uint8Array> = []
    sim.run(() => !client.sendWaiting, () => received.push(drain(server, sim.now)))
    expect(toldWhileWaiting).toBe(0)
    expect(told).toBe(1)
    sim.run(() => client.flight === 0 && client.sendBuffer.length === 0, () => received.push(drain(server, sim.now)))
    received.push(drain(server, sim.now))
    expect(Buffer.concat(received)).toEqual(Buffer.from(data))
  })

  it("sendAll forgets the rest once abandoned, or when the connection resets", () => {
    const sim = new Sim(37, clean, { sendBuffer: 16 * 1024 })
    const { client, server } = establish(sim)
    expect(client.sendAll(pattern(100_000, 7), sim.now)).toBe(false)
    client.abandonSend()
    const received: Array<Uint8Array> = []
    sim.run(() => client.flight === 0 && client.sendBuffer.length === 0, () => received.push(drain(server, sim.now)))
    sim.advance(1000)
    received.push(drain(server, sim.now))
    expect(Buffer.concat(received)).toEqual(Buffer.from(pattern(100_000, 7).subarray(0, 16 * 1024)))

    expect(client.sendAll(pattern(100_000, 8), sim.now)).toBe(false)
    client.abort(sim.now)
    expect(client.sendWaiting).toBe(false)
    expect(client.sendAll(new Uint8Array(10), sim.now)).toBe(false)
    expect(client.sendWaiting).toBe(false)
  })

  it("scales the window beyond 64 KiB (RFC 7323 §2) and keeps more than 64 KiB in flight", () => {
    const sim = new Sim(32, { ...clean, delayMs: 50 }, { receiveBuffer: 1 << 20, sendBuffer: 1 << 20 })
    const { client, server } = establish(sim)
    expect(client.rcvShift).toBe(5)
    let maxFlight = 0
    const data = pattern(4 << 20, 1)
    let written = 0
    let got = 0
    sim.run(() => got === data.length, () => {
      if (written < data.length) written += client.send(data.subarray(written), sim.now)
      got += drain(server, sim.now).length
      maxFlight = Math.max(maxFlight, client.flight)
    })
    expect(client.maxSndWnd).toBeGreaterThan(65535)
    expect(maxFlight).toBeGreaterThan(65535)
  })

  it("echoes timestamps (RFC 7323 §3) and measures the RTT from them", () => {
    const sim = new Sim(33, { ...clean, delayMs: 25 })
    const { client, server } = establish(sim)
    sim.record = true
    client.send(pattern(50_000, 2), sim.now)
    sim.run(() => client.flight === 0)
    const sentVals = new Set(sim.a.sent.map((s) => s.options.timestamps!.tsVal))
    const acks = sim.b.sent.filter((s) => (s.flags & Flags.ACK) !== 0)
    expect(acks.length).toBeGreaterThan(0)
    for (const ack of acks) expect(sentVals.has(ack.options.timestamps!.tsEcr)).toBe(true)
    expect(server.tsRecent).toBe(sim.a.sent[sim.a.sent.length - 1]!.options.timestamps!.tsVal)
    expect(client.rtt.srtt).toBeGreaterThanOrEqual(50)
    expect(client.rtt.srtt).toBeLessThan(100) // 50 ms path plus delayed ACKs
  })

  it("keepalive drops a connection whose peer vanished, and keeps a live one", () => {
    const keepalive = { idleMs: 10_000, intervalMs: 1000, probes: 3 }
    const sim = new Sim(34, clean, { keepalive })
    const { client, server } = establish(sim)
    sim.advance(60_000)
    expect(client.state).toBe("ESTABLISHED") // probes were answered
    sim.filter = (from) => from !== sim.b // the server's host vanishes
    const start = sim.now
    sim.run(() => client.state === "CLOSED")
    expect(client.closeReason).toBe("timeout")
    expect(client.timeoutDuring).toBe("keepalive")
    expect(sim.now - start).toBeLessThanOrEqual(10_000 + 3 * 1000)
    expect(server.state).not.toBe("CLOSED")
  })
})

describe("Nagle and delayed ACKs", () => {
  const smallWrites = (noDelay: boolean): number => {
    const sim = new Sim(41, { ...clean, delayMs: 20 }, { noDelay })
    const { client, server } = establish(sim)
    sim.record = true
    for (let i = 0; i < 10; i++) client.send(new Uint8Array(10).fill(i), sim.now)
    sim.run(() => server.receiveBuffer.readable === 100)
    return sim.a.sent.filter((s) => s.payload.length > 0).length
  }

  it("coalesces small writes while data is unacknowledged (Nagle), not with no-delay", () => {
    expect(smallWrites(false)).toBe(2)
    expect(smallWrites(true)).toBe(10)
  })

  it("sends held small segments at once when no-delay is switched on", () => {
    const sim = new Sim(43, { ...clean, delayMs: 20 })
    const { client } = establish(sim)
    sim.record = true
    for (let i = 0; i < 3; i++) client.send(new Uint8Array(10), sim.now)
    expect(sim.a.sent.filter((s) => s.payload.length > 0)).toHaveLength(1)
    client.setNoDelay(true, sim.now)
    expect(sim.a.sent.filter((s) => s.payload.length > 0)).toHaveLength(2)
    expect(sim.a.sent[1]!.payload).toHaveLength(20)
  })

  it("delays the ACK of a lone segment by the delayed-ACK time, and ACKs every second full segment", () => {
    const sim = new Sim(42, clean, { delayedAckMs: 40 })
    const { client, server } = establish(sim)
    sim.record = true
    client.send(new Uint8Array(100), sim.now)
    sim.run(() => client.flight === 0)
    const ack = sim.b.sent[0]!
    expect(ack.acknowledgmentNumber).toBe(server.rcvNxt)
    expect(sim.now).toBeGreaterThanOrEqual(5 + 40 + 5)
    sim.b.sent.length = 0
    sim.a.sent.length = 0
    const data = pattern(200 * 1448, 5)
    let written = 0
    sim.run(() => written === data.length && client.flight === 0, () => {
      if (written < data.length) written += client.send(data.subarray(written), sim.now)
      drain(server, sim.now)
    })
    const segments = sim.a.sent.filter((s) => s.payload.length > 0).length
    const acks = sim.b.sent.length
    expect(acks).toBeLessThanOrEqual(Math.ceil(segments / 2) + 5)
    expect(acks).toBeGreaterThanOrEqual(Math.floor(segments / 2) - 5)
  })

  it("a reader waiting with its buffer keeps the window open: a full window's batch is ACKed offering the whole buffer again", () => {
    for (const waiting of [true, false]) {
      const { sim, server, feed, received } = windowBound(45)
      const held = holdBurst(sim, feed)
      sim.record = true
      const start = server.rcvNxt
      const reader = new Uint8Array(256 * 1024)
      if (waiting) expect(server.receiveBuffer.lend(reader)).toBe(true)
      sim.b.engine.beginBatch()
      for (const segment of held) sim.inject(sim.b, sim.a.address, segment)
      sim.b.engine.endBatch(sim.now)
      const batch = seqDiff(server.rcvNxt, start)
      expect(batch).toBeGreaterThan(60 * 1024)
      const offered = sim.b.sent.at(-1)!.window << server.rcvShift
      const sentBeforeRead = sim.b.sent.length
      const n = server.receiveInto(reader, sim.now)
      expect(n).toBe(batch)
      expect(Buffer.from(reader.subarray(0, n)).equals(Buffer.from(received(n)))).toBe(true)
      if (waiting) {
        expect(offered).toBeGreaterThan(64 * 1024 - (1 << server.rcvShift)) // the whole buffer: the sender goes on at once
        expect(sim.b.sent.length).toBe(sentBeforeRead) // and no window update is needed after the read
      } else {
        expect(offered).toBeLessThan(64 * 1024 - batch + (1 << server.rcvShift)) // narrowed until the application reads
        expect(sim.b.sent.length).toBe(sentBeforeRead + 1) // then a window update
      }
    }
  })

  it("ACKs a batch of segments read at once at its end, and before whenever half the receive buffer is unacknowledged", () => {
    const { sim, client, server, feed } = windowBound(44)
    const held = holdBurst(sim, feed)
    expect(held.length).toBeGreaterThan(40)
    sim.record = true
    const start = server.rcvNxt
    const pushes = sim.b.pushes
    sim.b.engine.beginBatch()
    for (const segment of held) sim.inject(sim.b, sim.a.address, segment)
    const duringBatch = sim.b.sent.length
    expect(sim.b.pushes - pushes).toBe(1) // that ACK is written before the rest of the batch is handled
    sim.b.engine.endBatch(sim.now)
    const acked = sim.b.sent.map((s) => s.acknowledgmentNumber - start)
    expect(duringBatch).toBe(1)
    expect(acked[0]).toBeGreaterThanOrEqual(32 * 1024)
    expect(acked[0]).toBeLessThan(32 * 1024 + 1448)
    expect(acked.at(-1)).toBe(server.rcvNxt - start)
    expect(acked).toHaveLength(2)

    // A batch with a hole: its duplicate ACKs go out during it, but are not pushed one by one.
    sim.run(() => client.flight === 0, () => drain(server, sim.now))
    const next = holdBurst(sim, () => client.send(pattern(64 * 1024, 9), sim.now))
    expect(next.length).toBeGreaterThan(10)
    const sentBefore = sim.b.sent.length
    sim.b.engine.beginBatch()
    for (const segment of next.slice(1)) sim.inject(sim.b, sim.a.address, segment)
    expect(sim.b.sent.length - sentBefore).toBe(next.length - 1)
    expect(sim.b.pushes - pushes).toBe(1)
    sim.b.engine.endBatch(sim.now)
  })
})
