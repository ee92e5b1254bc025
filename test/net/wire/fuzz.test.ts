/**
 * Parsers on arbitrary bytes never throw: they return a view (whose payload
 * lies inside the input) or a typed rejection. Checksum verification is also
 * switched off, so random bytes reach the option and length logic behind it.
 */
import * as fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as Addr from "../../../src/net/wire/addr.ts"
import * as Arp from "../../../src/net/wire/arp.ts"
import * as Ethernet from "../../../src/net/wire/ethernet.ts"
import * as Icmpv4 from "../../../src/net/wire/icmpv4.ts"
import * as Ipv4 from "../../../src/net/wire/ipv4.ts"
import * as Tcp from "../../../src/net/wire/tcp.ts"
import * as Udp from "../../../src/net/wire/udp.ts"
import {
  ARP_REQUEST_FRAME,
  ICMP_ECHO_FRAME,
  ICMP_UNREACHABLE_PACKET,
  IPV4_OPTIONS_PADDED_FRAME,
  ipv4,
  parseFrame,
  placeAt,
  TCP_SACK_PACKET,
  TCP_SYN_FRAME,
  UDP_FRAME,
} from "./vectors.ts"

const REASONS: Record<string, ReadonlyArray<string>> = {
  ethernet: ["truncated", "not-ethernet-ii"],
  arp: ["truncated", "unsupported-hardware", "unsupported-protocol"],
  ipv4: ["truncated", "bad-version", "bad-header-length", "bad-total-length", "bad-checksum"],
  "ipv4-embedded": ["truncated", "bad-version", "bad-header-length"],
  icmpv4: ["truncated", "bad-checksum"],
  udp: ["truncated", "bad-length", "bad-checksum"],
  tcp: ["truncated", "bad-data-offset", "bad-option-length", "bad-checksum"],
}

const inside = (view: Uint8Array, input: Uint8Array): boolean =>
  view.buffer === input.buffer && view.byteOffset >= input.byteOffset &&
  view.byteOffset + view.length <= input.byteOffset + input.length

/** Check a parse result: a known rejection, or a view whose byte fields lie inside the input. */
const check = (result: { readonly _tag: string }, input: Uint8Array): void => {
  if (result._tag === "Rejected") {
    const { layer, reason } = result as unknown as { layer: string; reason: string }
    expect(REASONS[layer], layer).toContain(reason)
    return
  }
  for (const value of Object.values(result as unknown as Record<string, unknown>)) {
    // Empty views may be shared (IPv4 without options).
    if (value instanceof Uint8Array && value.length > 0) expect(inside(value, input)).toBe(true)
  }
}

const input = fc
  .tuple(fc.uint8Array({ maxLength: 120 }), fc.integer({ min: 0, max: 7 }))
  .map(([bytes, lead]) => placeAt(bytes, lead))

/** A few bytes that make the deeper checks reachable: version/IHL, data offset, lengths. */
const biased = fc
  .tuple(
    fc.uint8Array({ minLength: 20, maxLength: 120 }),
    fc.integer({ min: 0, max: 7 }),
    fc.constantFrom(0x45, 0x46, 0x4f, 0x44),
    fc.integer({ min: 0, max: 15 }),
  )
  .map(([bytes, lead, vihl, dataOffset]) => {
    const b = bytes.slice()
    b[0] = vihl
    b[2] = 0
    b[3] = Math.min(b.length, b[3]!)
    b[12] = (dataOffset << 4) | (b[12]! & 0xf)
    return placeAt(b, lead)
  })

const runs = { numRuns: 3000 }

describe("parsers never throw", () => {
  for (const [name, bytes] of [["random", input], ["biased", biased]] as const) {
    it(`on ${name} bytes`, () => {
      fc.assert(
        fc.property(bytes, ipv4, ipv4, fc.boolean(), (b, src, dst, verify) => {
          check(Ethernet.parse(b), b)
          check(Arp.parse(b), b)
          check(Ipv4.parse(b, verify), b)
          check(Ipv4.parseEmbedded(b), b)
          check(Icmpv4.parse(b, verify), b)
          check(Udp.parse(b, src, dst, verify), b)
          const tcp = Tcp.parse(b, src, dst, verify)
          check(tcp, b)
          if (tcp._tag === "TcpSegment") {
            const sack = tcp.options.sack
            if (sack !== undefined) expect(sack.length).toBeGreaterThanOrEqual(1)
            if (sack !== undefined) expect(sack.length).toBeLessThanOrEqual(4)
            expect(tcp.headerLength).toBeGreaterThanOrEqual(20)
            expect(tcp.headerLength + tcp.payload.length).toBe(b.length)
          }
          parseFrame(b)
        }),
        runs,
      )
    })
  }

  it("on random mutations of valid packets", () => {
    const packets = [ICMP_ECHO_FRAME, TCP_SYN_FRAME, UDP_FRAME, IPV4_OPTIONS_PADDED_FRAME, ARP_REQUEST_FRAME]
    const ipPackets = [TCP_SACK_PACKET, ICMP_UNREACHABLE_PACKET]
    fc.assert(
      fc.property(
        fc.nat(),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
        fc.nat(),
        (which, edits, cut) => {
          const all = [...packets, ...ipPackets]
          const original = all[which % all.length]!
          const bytes = original.slice()
          for (const [at, value] of edits) bytes[at % bytes.length] = value
          const b = placeAt(bytes.subarray(0, bytes.length - (cut % 8)), cut % 5)
          parseFrame(b)
          const offset = which % all.length < packets.length ? 14 : 0
          const ip = b.subarray(Math.min(offset, b.length))
          check(Ipv4.parse(ip, false), ip)
          const l4 = ip.subarray(Math.min(20, ip.length))
          check(Tcp.parse(l4, 1, 2, false), l4)
          check(Udp.parse(l4, 1, 2, false), l4)
          check(Icmpv4.parse(l4, false), l4)
        },
      ),
      runs,
    )
  })

  it("address text parsers on arbitrary strings", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (text) => {
        const m = Addr.parseMac(text)
        if (typeof m === "number") expect(Addr.isMac(m)).toBe(true)
        else expect(m.reason).toBe("syntax")
        const a = Addr.parseIpv4(text)
        if (typeof a === "number") expect(Addr.formatIpv4(a)).toBe(text)
        else expect(a.reason).toBe("syntax")
        const c = Addr.parseCidr(text)
        if (c._tag === "Ipv4Cidr") expect(Addr.formatCidr(c)).toBe(text)
      }),
      runs,
    )
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom("0", "1", "9", "25", "255", "256", ".", "/", ":", "-", "a", "F", "00", "32", "33"), { maxLength: 12 }),
        (parts) => {
          const text = parts.join("")
          Addr.parseMac(text)
          const a = Addr.parseIpv4(text)
          if (typeof a === "number") expect(Addr.formatIpv4(a)).toBe(text)
          const c = Addr.parseCidr(text)
          if (c._tag === "Ipv4Cidr") expect(Addr.formatCidr(c)).toBe(text)
        },
      ),
      runs,
    )
  })
})
