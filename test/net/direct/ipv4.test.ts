/**
 * The IPv4 engine without Effect: two engines wired back to back, or one fed
 * with hand-made frames, on a fake clock.
 */
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { parseIpv4Config } from "../../../src/net/direct/Config.ts"
import { Ipv4Engine } from "../../../src/net/engine/ipv4.ts"
import { writeUnreachable } from "../../../src/net/engine/icmp.ts"
import { UdpEngine, datagramLength, writeDatagram } from "../../../src/net/engine/udp.ts"
import type { Ipv4Cidr } from "../../../src/net/wire/addr.ts"
import { ipv4, parseCidr, readMac } from "../../../src/net/wire/addr.ts"
import * as Ethernet from "../../../src/net/wire/ethernet.ts"
import * as Icmpv4 from "../../../src/net/wire/icmpv4.ts"
import * as Ipv4Wire from "../../../src/net/wire/ipv4.ts"
import type { Packet } from "../../../src/net/wire/ipv4.ts"
import * as Tcp from "../../../src/net/wire/tcp.ts"

const A_MAC = 0x02000000000a
const B_MAC = 0x02000000000b
const A_IP = ipv4(10, 0, 0, 2)
const B_IP = ipv4(10, 0, 0, 3)

const make = (mac: number, cidr: string, extra: { gateway?: number; mtu?: number; checksumOffload?: boolean } = {}) => {
  const clock = { now: 0, deadlines: 0 }
  const engine = new Ipv4Engine({
    mac,
    mtu: extra.mtu ?? 1500,
    checksumOffload: extra.checksumOffload,
    cidr: parseCidr(cidr) as Ipv4Cidr,
    gateway: extra.gateway,
    now: () => clock.now,
    onDeadline: () => clock.deadlines++,
  })
  return { engine, clock }
}

/** Moves frames between two engines until both are quiet. */
const exchange = (a: Ipv4Engine, b: Ipv4Engine): void => {
  for (let round = 0; round < 10; round++) {
    const fromA = a.takeOutput()
    const fromB = b.takeOutput()
    if (fromA.length === 0 && fromB.length === 0) return
    b.receive(fromA)
    a.receive(fromB)
  }
}

const ipOf = (frame: Uint8Array): Packet => Ipv4Wire.parse(frame.subarray(14)) as Packet

/** A frame from B to A carrying an IPv4 packet of `protocol` with `payload` (written by `write`). */
const frameToA = (protocol: number, length: number, write: (buffer: Uint8Array, offset: number) => void, destination = A_IP) => {
  const frame = new Uint8Array(34 + length)
  Ethernet.emit({ destination: A_MAC, source: B_MAC, etherType: Ethernet.EtherType.Ipv4 }, frame)
  write(frame, 34)
  Ipv4Wire.emit({ identification: 9, ttl: 64, protocol, source: B_IP, destination, payloadLength: length }, frame, 14)
  return frame
}

/** A with B's MAC learned (B pinged A once). */
const pair = () => {
  const a = make(A_MAC, "10.0.0.2/24")
  const b = make(B_MAC, "10.0.0.3/24")
  b.engine.send(A_IP, 253, 0, () => {})
  exchange(a.engine, b.engine)
  return { a: a.engine, b: b.engine, clock: a.clock }
}

describe("IPv4 engine", () => {
  it("resolves with ARP, sends with TTL 64, answers pings", () => {
    const { a, b } = pair()
    let replies = 0
    b.observeIcmp((source, message) => {
      if (source === A_IP && message._tag === "Icmpv4Echo" && message.type === 0 && message.sequence === 5) replies++
    })
    b.send(A_IP, 1, 12, (buffer, offset) =>
      Icmpv4.emit({ _tag: "Icmpv4Echo", type: 8, code: 0, identifier: 1, sequence: 5, payloadLength: 4 }, buffer, offset))
    const [request] = b.takeOutput()
    expect(ipOf(request!).ttl).toBe(64)
    a.receive([request!])
    b.receive(a.takeOutput())
    expect(replies).toBe(1)
    expect(a.stats.echoReplies).toBe(1)
  })

  it("fragments beyond the MTU and the peer reassembles", () => {
    const a = make(A_MAC, "10.0.0.2/24", { mtu: 576 })
    const b = make(B_MAC, "10.0.0.3/24")
    const got: Array<Uint8Array> = []
    b.engine.register({ protocol: 200, input: (_s, _d, packet, start, end) => got.push(packet.slice(start, end)) })
    const payload = Uint8Array.from({ length: 3000 }, (_, i) => i & 0xff)
    expect(a.engine.send(B_IP, 200, payload.length, (buffer, offset) => buffer.set(payload, offset))).toBe(true)
    exchange(a.engine, b.engine)
    expect(got).toEqual([payload])
    expect(a.engine.stats.fragmentsSent).toBe(6)
  })

  it("queues for ARP and arms the timer; retries at the deadline", () => {
    const { engine, clock } = make(A_MAC, "10.0.0.2/24", { gateway: ipv4(10, 0, 0, 1) })
    expect(engine.send(ipv4(192, 0, 2, 1), 17, 8, () => {})).toBe(true)
    const [request] = engine.takeOutput()
    expect(readMac(request!, 0)).toBe(0xffffffffffff)
    expect(Array.from(request!.subarray(38, 42))).toEqual([10, 0, 0, 1]) // asks for the gateway
    expect(clock.deadlines).toBe(1)
    expect(engine.armTimer()).toBe(1000)
    clock.now = 1000
    engine.tick()
    expect(engine.takeOutput()).toHaveLength(1)
    const noGateway = make(A_MAC, "10.0.0.2/24").engine
    expect(noGateway.send(ipv4(192, 0, 2, 1), 17, 8, () => {})).toBe(false)
  })

  it("answers unclaimed TCP with a reset, other protocols and closed UDP ports with ICMP unreachable", () => {
    const { a } = pair()
    const syn = frameToA(6, 20, (buffer, offset) =>
      Tcp.emit({ sourcePort: 40000, destinationPort: 80, sequenceNumber: 1000, acknowledgmentNumber: 0, flags: Tcp.Flags.SYN, window: 1024, payloadLength: 0 }, buffer, offset, B_IP, A_IP))
    a.receive([syn])
    const [reset] = a.takeOutput()
    const segment = Tcp.parse(ipOf(reset!).payload, A_IP, B_IP) as Tcp.Segment
    expect(segment).toMatchObject({ sourcePort: 80, destinationPort: 40000, acknowledgmentNumber: 1001, flags: Tcp.Flags.RST | Tcp.Flags.ACK })

    a.receive([frameToA(99, 4, () => {})])
    const [protocolUnreachable] = a.takeOutput()
    expect(Icmpv4.parse(ipOf(protocolUnreachable!).payload)).toMatchObject({ type: 3, code: 2 })

    const udp = new UdpEngine((code) => a.unreachable(code), 0)
    a.register(udp)
    const datagram = frameToA(17, 12, (buffer, offset) => writeDatagram(5000, A_IP, 9, Uint8Array.of(1, 2, 3, 4))(buffer, offset, B_IP, false))
    a.receive([datagram])
    const [portUnreachable] = a.takeOutput()
    const message = Icmpv4.parse(ipOf(portUnreachable!).payload) as Icmpv4.DestinationUnreachable
    expect(message.code).toBe(3)
    expect(Ipv4Wire.parseEmbedded(message.payload)).toMatchObject({ protocol: 17, source: B_IP, destination: A_IP })
    expect(message.payload.subarray(0, 28)).toEqual(datagram.subarray(14, 14 + 28)) // its IP header and 8 bytes after, quoted

    a.receive([frameToA(99, 4, () => {}, ipv4(10, 0, 0, 255))]) // broadcast: no ICMP error
    expect(a.takeOutput()).toHaveLength(0)
  })

  it("answers a datagram whose reassembly timed out with a time exceeded, once its first fragment came and only if it was sent to us", () => {
    const { a, clock } = pair()
    /** A fragment from B of datagram `id` (16 bytes of 0x40 + id each), at `fragmentOffset`, to `destination`. */
    const fragment = (id: number, fragmentOffset: number, destination = A_IP) => {
      const frame = new Uint8Array(34 + 16)
      Ethernet.emit({ destination: A_MAC, source: B_MAC, etherType: Ethernet.EtherType.Ipv4 }, frame)
      frame.fill(0x40 + id, 34)
      Ipv4Wire.emit({ identification: id, ttl: 64, protocol: 17, source: B_IP, destination, payloadLength: 16, moreFragments: true, fragmentOffset }, frame, 14)
      return frame
    }
    a.receive([fragment(1, 0), fragment(2, 16), fragment(3, 0, ipv4(10, 0, 0, 255))])
    clock.now += 9_999
    a.tick()
    expect(a.takeOutput()).toHaveLength(0)
    clock.now += 1
    a.tick()
    // Only datagram 1: datagram 2 lacks its first fragment (nothing to quote), datagram 3 went to the broadcast address.
    const errors = a.takeOutput()
    expect(errors).toHaveLength(1)
    const packet = ipOf(errors[0]!)
    expect(packet).toMatchObject({ source: A_IP, destination: B_IP, protocol: 1 })
    const message = Icmpv4.parse(packet.payload) as Icmpv4.TimeExceeded
    expect(message).toMatchObject({ _tag: "Icmpv4TimeExceeded", type: 11, code: 1 })
    expect(Ipv4Wire.parseEmbedded(message.payload)).toMatchObject({ identification: 1, source: B_IP, destination: A_IP, moreFragments: true })
    expect(Array.from(message.payload.subarray(20))).toEqual(Array(8).fill(0x41)) // the first 8 data bytes
    expect(a.reassembly.stats.timedOut).toBe(3)
    expect(a.reassembly.size).toBe(0)
  })

  it("hands a transport each packet's ECN codepoint, a reassembled datagram's from its first fragment", () => {
    const { a } = pair()
    const seen: Array<[number, number]> = []
    a.register({ protocol: 200, input: (_source, _destination, _packet, start, end, _now, _verified, ecn) => seen.push([end - start, ecn]) })
    /** A packet of protocol 200 from B with ECN codepoint `ecn`: 16 bytes, or the fragment at `fragmentOffset` of a 32-byte datagram. */
    const packet = (ecn: number, fragmentOffset?: number) => {
      const frame = new Uint8Array(34 + 16)
      Ethernet.emit({ destination: A_MAC, source: B_MAC, etherType: Ethernet.EtherType.Ipv4 }, frame)
      const fragment = fragmentOffset === undefined ? {} : { identification: 7, moreFragments: fragmentOffset === 0, fragmentOffset }
      Ipv4Wire.emit({ identification: 1, ttl: 64, protocol: 200, source: B_IP, destination: A_IP, payloadLength: 16, ecn, ...fragment }, frame, 14)
      return frame
    }
    a.receive([packet(Ipv4Wire.Ecn.Ect0), packet(Ipv4Wire.Ecn.Ce), packet(Ipv4Wire.Ecn.Ect1, 0), packet(Ipv4Wire.Ecn.NotEct, 16)])
    expect(seen).toEqual([[16, Ipv4Wire.Ecn.Ect0], [16, Ipv4Wire.Ecn.Ce], [32, Ipv4Wire.Ecn.Ect1]])
  })

  it("sends ICMP errors at most 50 at once, then 1000 a second", () => {
    const { a, clock } = pair()
    clock.now += 1000 // the bucket refills from pair()'s own protocol unreachable
    const icmpErrorsBefore = a.stats.icmpErrors
    const probe = () => a.receive([frameToA(99, 4, () => {})])
    const errorsAfter = (probes: number) => {
      for (let i = 0; i < probes; i++) probe()
      return a.takeOutput().length
    }
    expect(errorsAfter(200)).toBe(50)
    expect(a.stats.icmpErrorsLimited).toBe(150)
    clock.now += 10
    expect(errorsAfter(200)).toBe(10)
    clock.now += 1000
    expect(errorsAfter(200)).toBe(50)
    expect(a.stats.icmpErrors - icmpErrorsBefore).toBe(110)
  })

  it("hands a destination unreachable about a packet we sent to that packet's transport, and none about others' packets", () => {
    const { a } = pair()
    const told: Array<ReadonlyArray<unknown>> = []
    a.register({
      protocol: 200,
      input: () => {},
      icmpUnreachable: (source, destination, quoted, code, reporter) => told.push([source, destination, [...quoted], code, reporter]),
    })
    a.send(B_IP, 200, 12, (buffer, offset) => buffer.set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], offset))
    const sent = a.takeOutput()[0]!.subarray(14)
    /** B's ICMP port unreachable quoting `packet`'s header and 8 bytes, as routers and hosts do. */
    const errorAbout = (packet: Uint8Array) => {
      const quote = packet.slice(0, 28)
      return frameToA(1, 8 + quote.length, (buffer, offset) => writeUnreachable(buffer, offset, 3, quote))
    }
    a.receive([errorAbout(sent)])
    expect(told).toEqual([[A_IP, B_IP, [1, 2, 3, 4, 5, 6, 7, 8], 3, B_IP]])
    const someoneElses = sent.slice()
    someoneElses.set([10, 0, 0, 9], 12) // the quoted packet's source
    a.receive([errorAbout(someoneElses)])
    expect(told).toHaveLength(1)
  })

  it("refuses an ICMP error rate that is not a number of 0 or more, naming it", () => {
    const refused = Effect.runSync(Effect.flip(parseIpv4Config({ cidr: "10.0.0.2/24", icmpErrors: { perSecond: -1 } })))
    expect(refused.reason).toContain("icmpErrors.perSecond=-1")
    expect(Effect.runSync(parseIpv4Config({ cidr: "10.0.0.2/24", icmpErrors: { perSecond: 0, burst: 5 } })).icmpErrors).toEqual({ perSecond: 0, burst: 5 })
  })

  it("stops a batch where a transport pushes, so what it sent is written before the rest; the batch begins and ends once", () => {
    const { a } = pair()
    const events: Array<string> = []
    a.register({
      protocol: 77,
      input: (_source, _destination, packet, start) => {
        events.push(`in ${packet[start]}`)
        if (packet[start] === 2) {
          a.sender.send(B_IP, 77, 1, (buffer, offset) => void (buffer[offset] = 2))
          a.sender.push!()
        }
      },
      beginBatch: () => events.push("begin"),
      endBatch: () => events.push("end"),
    })
    const batch = [1, 2, 3, 4].map((n) => frameToA(77, 1, (buffer, offset) => void (buffer[offset] = n)))
    const received = a.stats.framesReceived
    expect(a.receive(batch)).toBe(2)
    expect(a.takeOutput().map((frame) => frame[34])).toEqual([2]) // the reply, before frames 3 and 4 are handled
    expect(events).toEqual(["begin", "in 1", "in 2"])
    expect(a.receive(batch, 2)).toBe(4)
    expect(events).toEqual(["begin", "in 1", "in 2", "in 3", "in 4", "end"])
    expect(a.stats.framesReceived - received).toBe(4) // counted once
    // A push on the batch's last frame has nothing left to stop before.
    expect(a.receive([batch[1]!])).toBe(1)
    expect(events.slice(-3)).toEqual(["begin", "in 2", "end"])
  })

  it("tells transports which frames the device checksummed (receive checksum offload)", () => {
    const { a } = pair()
    const seen: Array<boolean> = []
    a.register({ protocol: 77, input: (_source, _destination, _packet, _start, _end, _now, checksumVerified) => seen.push(checksumVerified) })
    const frame = () => frameToA(77, 4, () => {})
    a.receive(Object.assign([frame(), frame(), frame()], { checksumVerified: Uint8Array.of(0, 1, 0) }))
    a.receive([frame()])
    expect(seen).toEqual([false, true, false, false])

    // UDP trusts the mark: a corrupted checksum is dropped unless the device vouched for the datagram.
    const udp = new UdpEngine((code) => a.unreachable(code), 0)
    a.register(udp)
    const got: Array<number> = []
    udp.bind(9, (_source, _sourcePort, _destination, _port, payload) => got.push(payload[0]!))
    const corrupted = (first: number) => {
      const f = frameToA(17, 12, (buffer, offset) => writeDatagram(5000, A_IP, 9, Uint8Array.of(first, 2, 3, 4))(buffer, offset, B_IP, false))
      f[34 + 8]! ^= 0xff // the payload changes after the checksum was written
      return f
    }
    a.receive([corrupted(1)])
    a.receive(Object.assign([corrupted(2)], { checksumVerified: Uint8Array.of(1) }))
    expect(got).toEqual([2 ^ 0xff])
    expect(udp.stats.malformed).toBe(1)
  })

  it("with checksum offload leaves whole packets' UDP checksums to the device, and sums fragmented ones itself", () => {
    const a = make(A_MAC, "10.0.0.2/24", { mtu: 576, checksumOffload: true }).engine
    const b = make(B_MAC, "10.0.0.3/24").engine
    b.send(A_IP, 253, 0, () => {})
    exchange(a, b)
    const udp = new UdpEngine(() => {}, 0)
    b.register(udp)
    const got: Array<number> = []
    udp.bind(9, (_source, _sourcePort, _destination, _port, payload) => got.push(payload.length))
    const send = (length: number) => a.send(B_IP, 17, datagramLength(length), writeDatagram(5000, B_IP, 9, new Uint8Array(length).fill(7)))

    send(100)
    const [whole] = a.takeOutput()
    const udpChecksum = (frame: Uint8Array) => new DataView(frame.buffer, frame.byteOffset).getUint16(34 + 6)
    expect(udpChecksum(whole!)).toBe(0) // left for the device to fill in
    b.receive([whole!])
    expect(got).toEqual([100])

    send(2000) // fragments: the device cannot sum a datagram it sees in pieces
    const fragments = a.takeOutput()
    expect(fragments.length).toBe(4)
    expect(udpChecksum(fragments[0]!)).not.toBe(0)
    b.receive(fragments) // and the receiver checks it
    expect(got).toEqual([100, 2000])
  })

  it("drops what is not for it, counts malformed frames and survives a throwing transport", () => {
    const { a } = pair()
    a.receive([frameToA(99, 4, () => {}, ipv4(10, 0, 0, 7)), new Uint8Array(10)])
    expect(a.stats).toMatchObject({ notForUs: 1, malformed: 1 })
    a.register({ protocol: 77, input: () => { throw new Error("boom") } })
    a.receive([frameToA(77, 4, () => {})])
    expect(a.takeFaults()).toEqual(["boom"])
    expect(() => a.register({ protocol: 77, input: () => {} })).toThrow("already registered")
  })
})
