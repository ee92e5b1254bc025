/**
 * Known packets (crafted with scapy, pasted as hex): every field checked,
 * checksums verified, the same bytes re-emitted from the fields, and every
 * truncation and single-bit error rejected by the chained parsers.
 */
import { describe, expect, it } from "vitest"
import * as Addr from "../../../src/net/wire/addr.ts"
import * as Arp from "../../../src/net/wire/arp.ts"
import * as Checksum from "../../../src/net/wire/checksum.ts"
import * as Ethernet from "../../../src/net/wire/ethernet.ts"
import * as Icmpv4 from "../../../src/net/wire/icmpv4.ts"
import * as Ipv4 from "../../../src/net/wire/ipv4.ts"
import * as Tcp from "../../../src/net/wire/tcp.ts"
import * as Udp from "../../../src/net/wire/udp.ts"
import {
  ARP_REQUEST_FRAME,
  hex,
  ICMP_ECHO_FRAME,
  ICMP_UNREACHABLE_PACKET,
  IPV4_OPTIONS_PADDED_FRAME,
  parseFrame,
  parseIp,
  placeAt,
  sameMemory,
  TCP_SACK_PACKET,
  TCP_SYN_FRAME,
  toHex,
  UDP_FRAME,
} from "./vectors.ts"

const ip = (text: string): number => {
  const a = Addr.parseIpv4(text)
  if (typeof a !== "number") throw new Error(text)
  return a
}
const mac = (text: string): number => {
  const m = Addr.parseMac(text)
  if (typeof m !== "number") throw new Error(text)
  return m
}

/** Every lead (byteOffset) from 0 to 7, so all alignments are exercised. */
const LEADS = [0, 1, 2, 3, 4, 5, 6, 7]

const expectOk = <A>(result: A): Exclude<A, { readonly _tag: "Rejected" }> => {
  const r = result as { readonly _tag?: string; readonly reason?: string }
  if (r._tag === "Rejected") throw new Error(`rejected: ${r.reason}`)
  return result as Exclude<A, { readonly _tag: "Rejected" }>
}

describe("known vectors", () => {
  it("Ethernet / IPv4 / ICMP echo request", () => {
    for (const lead of LEADS) {
      const frame = placeAt(ICMP_ECHO_FRAME, lead)
      const p = expectOk(parseFrame(frame))
      if (!("icmpv4" in p)) throw new Error("not ICMP")
      expect(p.ethernet).toMatchObject({
        destination: mac("52:54:00:12:34:56"),
        source: mac("02:00:00:00:00:01"),
        etherType: Ethernet.EtherType.Ipv4,
      })
      expect(p.ipv4).toMatchObject({
        headerLength: 20,
        dscp: 0,
        ecn: 0,
        totalLength: 76,
        identification: 0x1c46,
        dontFragment: true,
        moreFragments: false,
        fragmentOffset: 0,
        ttl: 64,
        protocol: Ipv4.Protocol.Icmp,
        checksum: 0x0a69,
        source: ip("10.0.0.2"),
        destination: ip("10.0.0.1"),
      })
      expect(p.icmpv4).toMatchObject({
        _tag: "Icmpv4Echo",
        type: Icmpv4.Type.EchoRequest,
        code: 0,
        checksum: 0xdc7a,
        identifier: 0x0a2b,
        sequence: 1,
      })
      expect(toHex(p.icmpv4.payload)).toBe("a1b2c3d4e5f60708101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637")
      expect(sameMemory(p.icmpv4.payload, frame, 42)).toBe(true)
      expect(Checksum.verify(frame, 14, 34)).toBe(true)
      expect(Checksum.verify(frame, 34)).toBe(true)
    }
    // Re-emit from the fields: the same bytes.
    const out = new Uint8Array(ICMP_ECHO_FRAME.length)
    out.set(ICMP_ECHO_FRAME.subarray(42), 42)
    Ethernet.emit({ destination: mac("52:54:00:12:34:56"), source: mac("02:00:00:00:00:01"), etherType: 0x0800 }, out, 0)
    Ipv4.emit({ identification: 0x1c46, dontFragment: true, ttl: 64, protocol: 1, source: ip("10.0.0.2"), destination: ip("10.0.0.1"), payloadLength: 56 }, out, 14)
    Icmpv4.emit({ _tag: "Icmpv4Echo", type: 8, code: 0, identifier: 0x0a2b, sequence: 1, payloadLength: 48 }, out, 34)
    expect(toHex(out)).toBe(toHex(ICMP_ECHO_FRAME))
  })

  it("Ethernet / IPv4 / TCP SYN with MSS, SACK-permitted, timestamps, window scale", () => {
    for (const lead of LEADS) {
      const p = expectOk(parseFrame(placeAt(TCP_SYN_FRAME, lead)))
      if (!("tcp" in p)) throw new Error("not TCP")
      expect(p.ethernet).toMatchObject({ destination: mac("02:00:00:00:00:01"), source: mac("52:54:00:12:34:56") })
      expect(p.ipv4).toMatchObject({
        totalLength: 60,
        identification: 0xbeef,
        dontFragment: true,
        ttl: 64,
        protocol: Ipv4.Protocol.Tcp,
        checksum: 0x67ca,
        source: ip("10.0.0.1"),
        destination: ip("10.0.0.2"),
      })
      expect(p.tcp).toEqual({
        _tag: "TcpSegment",
        sourcePort: 54321,
        destinationPort: 8080,
        sequenceNumber: 0xdeadbeef,
        acknowledgmentNumber: 0,
        headerLength: 40,
        flags: Tcp.Flags.SYN,
        window: 64240,
        checksum: 0xa3a7,
        urgentPointer: 0,
        options: {
          mss: 1460,
          windowScale: 7,
          sackPermitted: true,
          sack: undefined,
          timestamps: { tsVal: 0x01020304, tsEcr: 0 },
        },
        payload: new Uint8Array(0),
      })
    }
    const out = new Uint8Array(TCP_SYN_FRAME.length)
    Ethernet.emit({ destination: mac("02:00:00:00:00:01"), source: mac("52:54:00:12:34:56"), etherType: 0x0800 }, out, 0)
    const tcpLength = Tcp.emit(
      {
        sourcePort: 54321,
        destinationPort: 8080,
        sequenceNumber: 0xdeadbeef,
        acknowledgmentNumber: 0,
        flags: Tcp.Flags.SYN,
        window: 64240,
        options: { mss: 1460, sackPermitted: true, timestamps: { tsVal: 0x01020304, tsEcr: 0 }, windowScale: 7 },
        payloadLength: 0,
      },
      out,
      34,
      ip("10.0.0.1"),
      ip("10.0.0.2"),
    )
    Ipv4.emit({ identification: 0xbeef, dontFragment: true, ttl: 64, protocol: 6, source: ip("10.0.0.1"), destination: ip("10.0.0.2"), payloadLength: tcpLength }, out, 14)
    expect(toHex(out)).toBe(toHex(TCP_SYN_FRAME))
  })

  it("IPv4 / TCP ACK with timestamps, two SACK blocks and data", () => {
    for (const lead of LEADS) {
      const p = expectOk(parseIp(placeAt(TCP_SACK_PACKET, lead)))
      if (!("tcp" in p)) throw new Error("not TCP")
      expect(p.ipv4).toMatchObject({ totalLength: 75, identification: 1, dontFragment: false, checksum: 0x66aa })
      expect(p.tcp).toMatchObject({
        sourcePort: 8080,
        destinationPort: 54321,
        sequenceNumber: 1000,
        acknowledgmentNumber: 2000,
        headerLength: 52,
        flags: Tcp.Flags.ACK,
        window: 501,
        checksum: 0xd10a,
        urgentPointer: 0,
        options: {
          mss: undefined,
          windowScale: undefined,
          sackPermitted: false,
          sack: [{ left: 3000, right: 4000 }, { left: 5000, right: 6000 }],
          timestamps: { tsVal: 111, tsEcr: 222 },
        },
      })
      expect(new TextDecoder().decode(p.tcp.payload)).toBe("xyz")
    }
    const out = new Uint8Array(TCP_SACK_PACKET.length)
    out.set(new TextEncoder().encode("xyz"), 72)
    Tcp.emit(
      {
        sourcePort: 8080,
        destinationPort: 54321,
        sequenceNumber: 1000,
        acknowledgmentNumber: 2000,
        flags: Tcp.Flags.ACK,
        window: 501,
        options: { timestamps: { tsVal: 111, tsEcr: 222 }, sack: [{ left: 3000, right: 4000 }, { left: 5000, right: 6000 }] },
        payloadLength: 3,
      },
      out,
      20,
      ip("10.0.0.2"),
      ip("10.0.0.1"),
    )
    Ipv4.emit({ identification: 1, ttl: 64, protocol: 6, source: ip("10.0.0.2"), destination: ip("10.0.0.1"), payloadLength: 55 }, out, 0)
    expect(toHex(out)).toBe(toHex(TCP_SACK_PACKET))
  })

  it("Ethernet / IPv4 / UDP", () => {
    for (const lead of LEADS) {
      const p = expectOk(parseFrame(placeAt(UDP_FRAME, lead)))
      if (!("udp" in p)) throw new Error("not UDP")
      expect(p.ipv4).toMatchObject({ totalLength: 41, identification: 0x4242, dontFragment: false, protocol: 17, checksum: 0x2480 })
      expect(p.udp).toMatchObject({ sourcePort: 40000, destinationPort: 53, length: 21, checksum: 0xbb06 })
      expect(new TextDecoder().decode(p.udp.payload)).toBe("hello, mirage")
    }
    const out = new Uint8Array(UDP_FRAME.length)
    out.set(new TextEncoder().encode("hello, mirage"), 42)
    Ethernet.emit({ destination: mac("02:00:00:00:00:01"), source: mac("52:54:00:12:34:56"), etherType: 0x0800 }, out, 0)
    Ipv4.emit({ identification: 0x4242, ttl: 64, protocol: 17, source: ip("10.0.0.1"), destination: ip("10.0.0.2"), payloadLength: 21 }, out, 14)
    Udp.emit({ sourcePort: 40000, destinationPort: 53, payloadLength: 13 }, out, 34, ip("10.0.0.1"), ip("10.0.0.2"))
    expect(toHex(out)).toBe(toHex(UDP_FRAME))
  })

  it("Ethernet / IPv4 with options / UDP, with Ethernet padding", () => {
    for (const lead of LEADS) {
      const p = expectOk(parseFrame(placeAt(IPV4_OPTIONS_PADDED_FRAME, lead)))
      if (!("udp" in p)) throw new Error("not UDP")
      expect(p.ethernet.destination).toBe(mac("01:00:5e:00:00:fb"))
      expect(p.ethernet.payload.length).toBe(46)
      expect(p.ipv4).toMatchObject({ headerLength: 24, totalLength: 34, ttl: 1, destination: ip("224.0.0.251") })
      expect(toHex(p.ipv4.options)).toBe("94040000")
      expect(p.ipv4.payload.length).toBe(10)
      expect(p.udp).toMatchObject({ sourcePort: 5353, destinationPort: 5353, length: 10, checksum: 0x82a1 })
      expect(new TextDecoder().decode(p.udp.payload)).toBe("hi")
    }
  })

  it("IPv4 / ICMP port unreachable quoting a UDP datagram", () => {
    const p = expectOk(parseIp(placeAt(ICMP_UNREACHABLE_PACKET, 1)))
    if (!("icmpv4" in p)) throw new Error("not ICMP")
    expect(p.icmpv4).toMatchObject({
      _tag: "Icmpv4DestinationUnreachable",
      type: Icmpv4.Type.DestinationUnreachable,
      code: Icmpv4.UnreachableCode.Port,
      checksum: 0xce71,
      nextHopMtu: 0,
    })
    const quoted = expectOk(Ipv4.parseEmbedded(p.icmpv4.payload))
    expect(quoted).toMatchObject({ source: ip("10.0.0.2"), destination: ip("10.0.0.1"), protocol: 17, totalLength: 36, identification: 0x1234 })
    // The quoted UDP header: ports and length (its checksum cannot be verified on a cut datagram).
    expect(toHex(quoted.payload)).toBe("9c40270f00106b2b")
    expect(((quoted.payload[0]! << 8) | quoted.payload[1]!)).toBe(40000)
    expect(((quoted.payload[2]! << 8) | quoted.payload[3]!)).toBe(9999)
    // Re-emit the error around the quote.
    const out = new Uint8Array(ICMP_UNREACHABLE_PACKET.length)
    const original = hex("4500002412340000401154930a0000020a000001 9c40270f00106b2b 7061796c6f616421")
    const quote = Icmpv4.quoteLength(original, 20)
    out.set(original.subarray(0, quote), 28)
    Icmpv4.emit({ _tag: "Icmpv4DestinationUnreachable", type: 3, code: 3, nextHopMtu: 0, payloadLength: quote }, out, 20)
    Ipv4.emit({ identification: 0x99, ttl: 64, protocol: 1, source: ip("10.0.0.1"), destination: ip("10.0.0.2"), payloadLength: 8 + quote }, out, 0)
    expect(toHex(out)).toBe(toHex(ICMP_UNREACHABLE_PACKET))
  })

  it("Ethernet / ARP request", () => {
    for (const lead of LEADS) {
      const p = expectOk(parseFrame(placeAt(ARP_REQUEST_FRAME, lead)))
      if (!("arp" in p)) throw new Error("not ARP")
      expect(p.ethernet).toMatchObject({ destination: Addr.MAC_BROADCAST, source: mac("02:00:00:00:00:01"), etherType: Ethernet.EtherType.Arp })
      expect(p.arp).toEqual({
        _tag: "ArpPacket",
        operation: Arp.Operation.Request,
        senderMac: mac("02:00:00:00:00:01"),
        senderIp: ip("10.0.0.2"),
        targetMac: 0,
        targetIp: ip("10.0.0.1"),
      })
    }
    const out = new Uint8Array(42)
    Ethernet.emit({ destination: Addr.MAC_BROADCAST, source: mac("02:00:00:00:00:01"), etherType: Ethernet.EtherType.Arp }, out, 0)
    Arp.emit({ operation: 1, senderMac: mac("02:00:00:00:00:01"), senderIp: ip("10.0.0.2"), targetMac: 0, targetIp: ip("10.0.0.1") }, out, 14)
    expect(toHex(out)).toBe(toHex(ARP_REQUEST_FRAME))
  })
})

describe("rejections of known vectors", () => {
  const frames = { ICMP_ECHO_FRAME, TCP_SYN_FRAME, UDP_FRAME, ARP_REQUEST_FRAME }

  it("rejects every truncation of every frame as truncated, never throwing", () => {
    for (const [name, frame] of Object.entries(frames)) {
      for (let n = 0; n < frame.length; n++) {
        expect(parseFrame(placeAt(frame.subarray(0, n), n & 3)), `${name}[0, ${n})`).toMatchObject({
          _tag: "Rejected",
          reason: "truncated",
        })
      }
      expect(parseFrame(frame)).not.toHaveProperty("_tag")
    }
    for (let n = 0; n < TCP_SACK_PACKET.length; n++) {
      expect(parseIp(TCP_SACK_PACKET.subarray(0, n))).toMatchObject({ _tag: "Rejected", layer: "ipv4", reason: "truncated" })
    }
  })

  it("rejects truncations of a padded frame until the padding alone is cut", () => {
    const meaningful = 14 + 34
    for (let n = 0; n <= IPV4_OPTIONS_PADDED_FRAME.length; n++) {
      const result = parseFrame(IPV4_OPTIONS_PADDED_FRAME.subarray(0, n))
      if (n < meaningful) expect(result).toMatchObject({ _tag: "Rejected", reason: "truncated" })
      else expect(result).toHaveProperty("udp")
    }
  })

  it("rejects any single-bit error in the IPv4 packet", () => {
    for (const [name, frame] of Object.entries({ ICMP_ECHO_FRAME, TCP_SYN_FRAME, UDP_FRAME })) {
      for (let bit = 14 * 8; bit < frame.length * 8; bit++) {
        const bad = frame.slice()
        bad[bit >>> 3]! ^= 0x80 >>> (bit & 7)
        expect(parseFrame(bad), `${name} bit ${bit}`).toHaveProperty("_tag", "Rejected")
      }
    }
  })

  it("reports bad checksums as such", () => {
    const tcp = TCP_SYN_FRAME.slice()
    tcp[14 + 20 + 4]! ^= 1 // sequence number
    expect(parseFrame(tcp)).toMatchObject({ layer: "tcp", reason: "bad-checksum" })
    const ipHeader = TCP_SYN_FRAME.slice()
    ipHeader[14 + 8]! ^= 1 // TTL
    expect(parseFrame(ipHeader)).toMatchObject({ layer: "ipv4", reason: "bad-checksum" })
    const udp = UDP_FRAME.slice()
    udp[UDP_FRAME.length - 1]! ^= 0x20
    expect(parseFrame(udp)).toMatchObject({ layer: "udp", reason: "bad-checksum" })
    const icmp = ICMP_ECHO_FRAME.slice()
    icmp[50]! ^= 0x80
    expect(parseFrame(icmp)).toMatchObject({ layer: "icmpv4", reason: "bad-checksum" })
  })
})
