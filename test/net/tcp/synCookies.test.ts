import { describe, expect, it } from "vitest"
import type { TcpConfig } from "../../../src/net/tcp/config.ts"
import type { Listener } from "../../../src/net/tcp/listener.ts"
import { COOKIE_MSS, cookieOptions, decodeOptions, encodeTsVal, SynCookies } from "../../../src/net/tcp/synCookies.ts"
import { ipv4 } from "../../../src/net/wire/addr.ts"
import { Flags, NO_OPTIONS } from "../../../src/net/wire/tcp.ts"
import type { Options } from "../../../src/net/wire/tcp.ts"
import { craft, synFlood } from "./helpers.ts"
import { clean, prng, Sim } from "./sim.ts"
import { Peer, pattern, sha256 } from "./transfer.ts"

const LOCAL = ipv4(10, 0, 0, 2)
const REMOTE = ipv4(10, 0, 0, 1)

describe("SYN cookies", () => {
  const random = prng(7)
  const cookies = new SynCookies(() => Math.floor(random() * 2 ** 32))
  const now = 5_000_000

  it("a cookie gives back its MSS for its own 4-tuple and peer ISN, in its period and the next", () => {
    for (const mss of COOKIE_MSS) {
      const cookie = cookies.make(LOCAL, 80, REMOTE, 40000, 0xfffffff0, mss, now)
      expect(cookies.check(LOCAL, 80, REMOTE, 40000, 0xfffffff0, cookie, now)).toBe(mss)
      expect(cookies.check(LOCAL, 80, REMOTE, 40000, 0xfffffff0, cookie, now + 64_000)).toBe(mss)
      expect(cookies.check(LOCAL, 80, REMOTE, 40000, 0xfffffff0, cookie, now + 128_000)).toBeUndefined()
      expect(cookies.check(LOCAL, 80, REMOTE, 40001, 0xfffffff0, cookie, now)).toBeUndefined()
      expect(cookies.check(LOCAL, 80, ipv4(10, 0, 0, 3), 40000, 0xfffffff0, cookie, now)).toBeUndefined()
      // A later segment of the peer's stream, its sequence number less one taken for the ISN.
      for (const later of [1, 2, 3, 100]) expect(cookies.check(LOCAL, 80, REMOTE, 40000, (0xfffffff0 + later) >>> 0, cookie, now)).toBeUndefined()
      expect(cookies.check(LOCAL, 80, REMOTE, 40000, 0xfffffff0, (cookie ^ 0x10000) >>> 0, now)).toBeUndefined()
    }
  })

  it("guessed cookies fail", () => {
    let accepted = 0
    for (let i = 0; i < 100_000; i++) {
      const guess = Math.floor(random() * 2 ** 32)
      if (cookies.check(LOCAL, 80, REMOTE, 40000, 12345, guess, now) !== undefined) accepted++
    }
    expect(accepted).toBe(0)
  })

  it("rounds the peer's MSS down to the table and keeps window scale and SACK only with timestamps", () => {
    const syn = (options: Partial<Options>): Options => ({ ...NO_OPTIONS, ...options })
    const timestamps = { tsVal: 99, tsEcr: 0 }
    expect(cookieOptions(syn({ mss: 1460, windowScale: 7, sackPermitted: true, timestamps }))).toMatchObject({ mss: 1460, windowScale: 7, sackPermitted: true })
    expect(cookieOptions(syn({ mss: 1400, windowScale: 7, sackPermitted: true }))).toMatchObject({ mss: 1300, windowScale: undefined, sackPermitted: false })
    expect(cookieOptions(syn({ mss: 100 }))).toMatchObject({ mss: 536 })
    expect(cookieOptions(syn({}))).toMatchObject({ mss: 536 })
  })

  it("the TSval carries window scale and SACK-permitted back, and is never above the real one", () => {
    for (const windowScale of [undefined, 0, 5, 14]) {
      for (const sackPermitted of [false, true]) {
        for (const tsVal of [0x12345678, 0x40, 0x3f, 0xffffffff]) {
          const options: Options = { ...NO_OPTIONS, mss: 1460, windowScale, sackPermitted, timestamps: { tsVal: 1, tsEcr: 0 } }
          const encoded = encodeTsVal(tsVal, options)
          expect(encoded).toBeLessThanOrEqual(tsVal)
          expect(tsVal - encoded).toBeLessThan(128)
          const back = decodeOptions(1460, { ...NO_OPTIONS, timestamps: { tsVal: 5, tsEcr: encoded } })
          expect([back.windowScale, back.sackPermitted]).toEqual([windowScale, sackPermitted])
        }
      }
    }
  })
})

/** A listener on B:80 with a full SYN queue (4), and A's client exchanging `size` bytes each way with it. */
const throughCookie = (config: Partial<TcpConfig>, clientConfig: Partial<TcpConfig> = config, size = 1 << 20) => {
  const sim = new Sim(71, clean, clientConfig, { synQueue: 4, ...config })
  const listener = sim.b.engine.listen(80) as Listener
  synFlood(sim, 80, 50, 3)
  const client = sim.a.engine.connect(sim.b.address, 80, sim.now)
  if (typeof client === "string") throw new Error(client)
  const aData = pattern(size, 1)
  const bData = pattern(size, 2)
  const a = new Peer(aData)
  const b = new Peer(bData)
  a.connection = client
  const completed = sim.run(() => a.ended && b.ended, () => {
    b.connection ??= listener.accept()
    a.step(sim.now)
    b.step(sim.now)
  }, 600_000)
  return { sim, listener, client, server: b.connection, completed, aIntact: a.hash.digest("hex") === sha256(bData), bIntact: b.hash.digest("hex") === sha256(aData) }
}

describe("SYN cookies in the engine", () => {
  it("a client gets through a full SYN queue with every option it offered, and a MiB crosses both ways", () => {
    const r = throughCookie({})
    expect(r.completed && r.aIntact && r.bIntact).toBe(true)
    expect(r.sim.b.engine.stats.synCookiesSent).toBeGreaterThanOrEqual(47)
    expect(r.sim.b.engine.stats.synCookiesAccepted).toBe(1)
    expect(r.listener.halfOpen).toBe(4)
    const server = r.server!
    expect([server.tsOk, server.sackOk, server.wsOk]).toEqual([true, true, true])
    expect(server.sndShift).toBe(r.client.rcvShift)
    expect(r.client.sndShift).toBe(server.rcvShift)
    expect(server.sndMss).toBe(r.client.sndMss)
  })

  it("without timestamps, the cookie's connection goes without window scaling and SACK, on both ends", () => {
    const r = throughCookie({ timestamps: false })
    expect(r.completed && r.aIntact && r.bIntact).toBe(true)
    expect(r.sim.b.engine.stats.synCookiesAccepted).toBe(1)
    expect([r.server!.wsOk, r.server!.sackOk, r.client.wsOk, r.client.sackOk]).toEqual([false, false, false, false])
  })

  it("answers an ACK with a forged or expired cookie with RST and opens nothing", () => {
    const sim = new Sim(72, clean, {}, { synQueue: 4 })
    const listener = sim.b.engine.listen(80) as Listener
    synFlood(sim, 80, 10, 3)
    sim.record = true
    const ack = (seq: number, ackNumber: number) =>
      craft({ sourcePort: 40000, destinationPort: 80, sequenceNumber: seq, acknowledgmentNumber: ackNumber, flags: Flags.ACK, window: 1000 }, sim.a.address, sim.b.address)
    sim.inject(sim.b, sim.a.address, ack(1001, 0x12345678))
    expect(sim.b.sent.map((s) => s.flags)).toEqual([Flags.RST])
    expect(sim.b.engine.stats.synCookiesAccepted).toBe(0)
    // A real cookie for the A side, returned too late.
    sim.b.sent.length = 0
    sim.inject(sim.b, sim.a.address, craft({ sourcePort: 40000, destinationPort: 80, sequenceNumber: 1000, acknowledgmentNumber: 0, flags: Flags.SYN, window: 1000, options: { mss: 1460 } }, sim.a.address, sim.b.address))
    const synAck = sim.b.sent.find((s) => s.flags === (Flags.SYN | Flags.ACK))!
    sim.now += 200_000
    sim.b.sent.length = 0
    sim.inject(sim.b, sim.a.address, ack(1001, (synAck.sequenceNumber + 1) >>> 0))
    expect(sim.b.sent.map((s) => s.flags)).toEqual([Flags.RST])
    expect(sim.b.engine.stats.synCookiesAccepted).toBe(0)
    expect(listener.pending).toBe(0)
  })

  it("a FIN arriving before the handshake's ACK and the data is answered with RST, not taken for an empty stream", () => {
    const sim = new Sim(75, clean, {}, { synQueue: 2 })
    const listener = sim.b.engine.listen(80) as Listener
    synFlood(sim, 80, 10, 3)
    // A's segments after its SYN are lost, all but the FIN.
    sim.filter = (from, seg) => from !== sim.a || (seg.flags & Flags.SYN) !== 0 || (seg.flags & Flags.FIN) !== 0
    const client = sim.a.engine.connect(sim.b.address, 80, sim.now)
    if (typeof client === "string") throw new Error(client)
    sim.run(() => client.state === "ESTABLISHED", () => {}, 10_000)
    client.send(new TextEncoder().encode("da"), sim.now)
    client.shutdown(sim.now)
    sim.run(() => client.state === "CLOSED", () => {}, 10_000)
    expect(client.closeReason).toBe("reset")
    expect(sim.b.engine.stats.synCookiesAccepted).toBe(0)
    expect(listener.pending).toBe(0)
  })

  it("a cookie's connection waits for room in a full backlog; the client's data then opens it", () => {
    const sim = new Sim(73, clean, {}, { synQueue: 2, backlog: 1 })
    const listener = sim.b.engine.listen(80) as Listener
    const first = sim.a.engine.connect(sim.b.address, 80, sim.now)
    if (typeof first === "string") throw new Error(first)
    sim.run(() => listener.pending === 1, () => {}, 10_000)
    synFlood(sim, 80, 10, 3)
    const client = sim.a.engine.connect(sim.b.address, 80, sim.now)
    if (typeof client === "string") throw new Error(client)
    sim.run(() => client.state === "ESTABLISHED", () => {}, 10_000)
    client.send(new TextEncoder().encode("hello"), sim.now)
    sim.advance(3_000)
    expect(sim.b.engine.stats.synCookiesAccepted).toBe(0)
    expect(listener.accept()).toBeDefined()
    let second: ReturnType<Listener["accept"]>
    expect(sim.run(() => second !== undefined, () => (second ??= listener.accept()), 120_000)).toBe(true)
    let text = ""
    sim.run(() => text === "hello", () => {
      const data = second!.receive(100, sim.now)
      if (data !== undefined) text += new TextDecoder().decode(data)
    }, 10_000)
    expect(text).toBe("hello")
    expect(sim.b.engine.stats.synCookiesAccepted).toBe(1)
  })

  it("with cookies off, a full SYN queue drops its oldest half-open connection instead", () => {
    const sim = new Sim(74, clean, {}, { synQueue: 4, synCookies: false })
    const listener = sim.b.engine.listen(80) as Listener
    synFlood(sim, 80, 50, 3)
    expect(listener.halfOpen).toBe(4)
    expect(sim.b.engine.stats.synCookiesSent).toBe(0)
    const client = sim.a.engine.connect(sim.b.address, 80, sim.now)
    if (typeof client === "string") throw new Error(client)
    expect(sim.run(() => client.state === "ESTABLISHED" && listener.pending === 1, () => {}, 10_000)).toBe(true)
  })
})
