/**
 * Known packets, crafted with scapy 2.5.0 (python3-scapy) and pasted as hex,
 * plus helpers shared by the wire tests. The tests do not depend on scapy.
 */
import * as fc from "fast-check"
import * as Arp from "../../../src/net/wire/arp.ts"
import * as Ethernet from "../../../src/net/wire/ethernet.ts"
import * as Icmpv4 from "../../../src/net/wire/icmpv4.ts"
import * as Ipv4 from "../../../src/net/wire/ipv4.ts"
import type { Rejected } from "../../../src/net/wire/result.ts"
import * as Tcp from "../../../src/net/wire/tcp.ts"
import * as Udp from "../../../src/net/wire/udp.ts"

/** Bytes from a hex string (whitespace ignored). */
export const hex = (text: string): Uint8Array => {
  const clean = text.replace(/\s+/g, "")
  const bytes = new Uint8Array(clean.length / 2)
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16)
  return bytes
}

/** Hex string of bytes. */
export const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex")

/**
 * A copy of `bytes` placed at byte `lead` of a larger buffer with `tail`
 * garbage bytes after it: the returned view has a non-zero `byteOffset` and
 * is exactly `bytes.length` long.
 */
export const placeAt = (bytes: Uint8Array, lead: number, tail = 7): Uint8Array => {
  const backing = new Uint8Array(lead + bytes.length + tail).fill(0xa5)
  backing.set(bytes, lead)
  return backing.subarray(lead, lead + bytes.length)
}

/**
 * Ethernet II / IPv4 / ICMP echo request, as `ping` sends it:
 * 02:00:00:00:00:01 → 52:54:00:12:34:56, 10.0.0.2 → 10.0.0.1, id 0x1c46, DF,
 * TTL 64; ICMP id 0x0a2b seq 1, 48 data bytes (8-byte timestamp, 0x10..0x37).
 */
export const ICMP_ECHO_FRAME = hex(
  "525400123456020000000001080045000" +
    "04c1c46400040010a690a0000020a000001" +
    "0800dc7a0a2b0001a1b2c3d4e5f60708101112131415161718191a1b1c1d1e1f" +
    "202122232425262728292a2b2c2d2e2f3031323334353637",
)

/**
 * Ethernet II / IPv4 / TCP SYN with Linux-style options:
 * 10.0.0.1:54321 → 10.0.0.2:8080, seq 0xdeadbeef, window 64240,
 * options MSS 1460, SACK-permitted, timestamps (0x01020304, 0), NOP, WS 7.
 */
export const TCP_SYN_FRAME = hex(
  "02000000000152540012345608004500003cbeef4000400667ca0a0000010a000002" +
    "d4311f90deadbeef00000000a002faf0a3a70000" +
    "020405b40402080a010203040000000001030307",
)

/**
 * IPv4 / TCP ACK with data "xyz": 10.0.0.2:8080 → 10.0.0.1:54321, seq 1000,
 * ack 2000, window 501, options NOP NOP TS(111, 222) NOP NOP
 * SACK (3000-4000, 5000-6000).
 */
export const TCP_SACK_PACKET = hex(
  "4500004b00010000400666aa0a0000020a000001" +
    "1f90d431000003e8000007d0d01001f5d10a0000" +
    "0101080a0000006f000000de0101051200000bb800000fa00000138800001770" +
    "78797a",
)

/** Ethernet II / IPv4 / UDP "hello, mirage": 10.0.0.1:40000 → 10.0.0.2:53. */
export const UDP_FRAME = hex(
  "02000000000152540012345608004500002942420000401124800a0000010a000002" +
    "9c4000350015bb06" +
    "68656c6c6f2c206d6972616765",
)

/**
 * Ethernet II / IPv4 with a Router Alert option (IHL 6) / UDP "hi", to
 * 224.0.0.251, TTL 1, padded with zeros to the 60-byte Ethernet minimum.
 */
export const IPV4_OPTIONS_PADDED_FRAME = hex(
  "01005e0000fb02000000000108004600002200070000011139c30a000002e00000fb94040000" +
    "14e914e9000a82a16869" +
    "000000000000000000000000",
)

/**
 * IPv4 / ICMP destination unreachable (port) from 10.0.0.1 to 10.0.0.2,
 * quoting the IPv4 header and first 8 bytes of a UDP datagram
 * 10.0.0.2:40000 → 10.0.0.1:9999.
 */
export const ICMP_UNREACHABLE_PACKET = hex(
  "45000038009900004001662a0a0000010a000002" +
    "0303ce7100000000" +
    "4500002412340000401154930a0000020a000001" +
    "9c40270f00106b2b",
)

/** Ethernet II broadcast / ARP request: who has 10.0.0.1? tell 10.0.0.2 (02:00:00:00:00:01). */
export const ARP_REQUEST_FRAME = hex(
  "ffffffffffff020000000001080600010800060400010200000000010a0000020000000000000a000001",
)

// ---------------------------------------------------------------------------
// Arbitraries

export const u8 = fc.integer({ min: 0, max: 0xff })
export const u16 = fc.integer({ min: 0, max: 0xffff })
export const u32 = fc.integer({ min: 0, max: 0xffffffff })
export const mac = fc.integer({ min: 0, max: 2 ** 48 - 1 })
export const ipv4 = u32

/** Where to emit: a view starting `lead` bytes into its backing buffer, emitting at `offset` in it. */
export interface Placement {
  readonly lead: number
  readonly offset: number
  readonly tail: number
}

export const placement: fc.Arbitrary<Placement> = fc.record({
  lead: fc.integer({ min: 0, max: 9 }),
  offset: fc.integer({ min: 0, max: 9 }),
  tail: fc.integer({ min: 0, max: 5 }),
})

/**
 * A garbage-filled view `offset + length + tail` bytes long, itself starting
 * `lead` bytes into a larger backing buffer.
 */
export const bufferFor = (p: Placement, length: number): Uint8Array => {
  const backing = new Uint8Array(p.lead + p.offset + length + p.tail).fill(0xa5)
  return backing.subarray(p.lead, p.lead + p.offset + length + p.tail)
}

/** Assert that `view` is a view into `of`'s memory at `at` (no copy). */
export const sameMemory = (view: Uint8Array, of: Uint8Array, at: number): boolean =>
  view.buffer === of.buffer && view.byteOffset === of.byteOffset + at

// ---------------------------------------------------------------------------
// A whole-frame parser, as the stack will chain the layers

export type Parsed =
  | { readonly ethernet: Ethernet.Frame; readonly arp: Arp.Packet }
  | { readonly ethernet: Ethernet.Frame; readonly ipv4: Ipv4.Packet; readonly icmpv4: Icmpv4.Message }
  | { readonly ethernet: Ethernet.Frame; readonly ipv4: Ipv4.Packet; readonly udp: Udp.Datagram }
  | { readonly ethernet: Ethernet.Frame; readonly ipv4: Ipv4.Packet; readonly tcp: Tcp.Segment }

/** Parse Ethernet, then ARP or IPv4, then ICMPv4, UDP or TCP: the views, or the first rejection. */
export const parseFrame = (frame: Uint8Array): Parsed | Rejected => {
  const ethernet = Ethernet.parse(frame)
  if (ethernet._tag === "Rejected") return ethernet
  if (ethernet.etherType === Ethernet.EtherType.Arp) {
    const arp = Arp.parse(ethernet.payload)
    return arp._tag === "Rejected" ? arp : { ethernet, arp }
  }
  if (ethernet.etherType !== Ethernet.EtherType.Ipv4) return { _tag: "Rejected", layer: "test", reason: "ethertype" }
  const ipv4 = parseIp(ethernet.payload)
  return "_tag" in ipv4 ? ipv4 : { ethernet, ...ipv4 }
}

/** Parse IPv4, then ICMPv4, UDP or TCP. */
export const parseIp = (
  bytes: Uint8Array,
):
  | Rejected
  | { readonly ipv4: Ipv4.Packet; readonly icmpv4: Icmpv4.Message }
  | { readonly ipv4: Ipv4.Packet; readonly udp: Udp.Datagram }
  | { readonly ipv4: Ipv4.Packet; readonly tcp: Tcp.Segment } => {
  const ipv4 = Ipv4.parse(bytes)
  if (ipv4._tag === "Rejected") return ipv4
  switch (ipv4.protocol) {
    case Ipv4.Protocol.Icmp: {
      const icmpv4 = Icmpv4.parse(ipv4.payload)
      return icmpv4._tag === "Rejected" ? icmpv4 : { ipv4, icmpv4 }
    }
    case Ipv4.Protocol.Udp: {
      const udp = Udp.parse(ipv4.payload, ipv4.source, ipv4.destination)
      return udp._tag === "Rejected" ? udp : { ipv4, udp }
    }
    case Ipv4.Protocol.Tcp: {
      const tcp = Tcp.parse(ipv4.payload, ipv4.source, ipv4.destination)
      return tcp._tag === "Rejected" ? tcp : { ipv4, tcp }
    }
    default:
      return { _tag: "Rejected", layer: "test", reason: "protocol" }
  }
}
