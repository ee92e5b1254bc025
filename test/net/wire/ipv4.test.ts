import * as fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as Checksum from "../../../src/net/wire/checksum.ts"
import * as Ipv4 from "../../../src/net/wire/ipv4.ts"
import { bufferFor, hex, ipv4, placement, placeAt, sameMemory, u16, u8 } from "./vectors.ts"

const header = fc.record({
  dscp: fc.integer({ min: 0, max: 63 }),
  ecn: fc.integer({ min: 0, max: 3 }),
  identification: u16,
  dontFragment: fc.boolean(),
  moreFragments: fc.boolean(),
  fragmentOffset: fc.integer({ min: 0, max: 0x1fff }).map((n) => n * 8),
  ttl: u8,
  protocol: u8,
  source: ipv4,
  destination: ipv4,
})

/** A valid 20-byte header with `payloadLength` bytes of zero data. */
const simplePacket = (payloadLength = 8): Uint8Array => {
  const bytes = new Uint8Array(20 + payloadLength)
  Ipv4.emit(
    { identification: 1, ttl: 64, protocol: 17, source: 0x0a000001, destination: 0x0a000002, payloadLength },
    bytes,
  )
  return bytes
}

/** Rewrite the header checksum after a deliberate change. */
const fixChecksum = (bytes: Uint8Array, headerLength: number): Uint8Array => {
  bytes[10] = 0
  bytes[11] = 0
  const c = Checksum.checksum(bytes, 0, headerLength)
  bytes[10] = c >>> 8
  bytes[11] = c & 0xff
  return bytes
}

describe("IPv4", () => {
  it("round-trips random headers at any byteOffset and offset, ignoring trailing padding", () => {
    fc.assert(
      fc.property(header, fc.uint8Array({ maxLength: 120 }), placement, (h, payload, p) => {
        const buffer = bufferFor(p, Ipv4.bufferLength(payload.length))
        buffer.set(payload, p.offset + 20)
        expect(Ipv4.emit({ ...h, payloadLength: payload.length }, buffer, p.offset)).toBe(20)
        // The view runs to the end of the buffer: `tail` garbage bytes follow the packet.
        const packet = buffer.subarray(p.offset)
        const parsed = Ipv4.parse(packet)
        if (parsed._tag === "Rejected") throw new Error(parsed.reason)
        expect(parsed).toMatchObject({ ...h, headerLength: 20, totalLength: 20 + payload.length })
        expect(parsed.options.length).toBe(0)
        expect(parsed.payload).toEqual(payload)
        expect(sameMemory(parsed.payload, packet, 20)).toBe(true)
        expect(Checksum.verify(packet, 0, 20)).toBe(true)
        expect(Ipv4.headerLength(parsed)).toBe(20)
      }),
    )
  })

  it("parses a packet at an offset in a bigger buffer as it parses the packet alone, its views into that buffer", () => {
    const withOptions = hex("4600002200070000011139c30a000002e00000fb94040000 14e914e9000a82a16869")
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 20 }), fc.uint8Array({ maxLength: 8 }), fc.integer({ min: 0, max: 3 }), (before, after, which) => {
        const packet = [simplePacket(30), withOptions, simplePacket(0), simplePacket(30).subarray(0, 25)][which]!
        const bytes = new Uint8Array([...before, ...packet, ...after])
        const alone = Ipv4.parse(packet)
        const at = Ipv4.parse(bytes, true, before.length)
        if (alone._tag === "Rejected") {
          expect(at).toBe(alone)
          return
        }
        if (at._tag === "Rejected") throw new Error(at.reason)
        expect(at).toEqual(alone)
        expect(sameMemory(at.payload, bytes, before.length + alone.headerLength)).toBe(true)
      }),
    )
  })

  it("check and the header readers say what parse says, at any offset, for valid and damaged packets", () => {
    fc.assert(
      fc.property(header, fc.uint8Array({ maxLength: 40 }), fc.nat({ max: 16 }), fc.option(fc.nat({ max: 40 * 8 })), (h, payload, at, flip) => {
        const bytes = new Uint8Array(at + 20 + payload.length)
        Ipv4.emit({ ...h, payloadLength: payload.length }, bytes, at)
        bytes.set(payload, at + 20)
        const damaged = flip === null ? undefined : at + (flip >>> 3)
        if (damaged !== undefined && damaged < bytes.length) bytes[damaged] = bytes[damaged]! ^ (1 << (flip! & 7))
        const parsed = Ipv4.parse(bytes, true, at)
        expect(Ipv4.check(bytes, true, at)).toBe(parsed._tag === "Rejected" ? parsed : undefined)
        if (parsed._tag === "Rejected") return
        expect(Ipv4.headerLengthOf(bytes, at)).toBe(parsed.headerLength)
        expect(Ipv4.totalLengthOf(bytes, at)).toBe(parsed.totalLength)
        expect(Ipv4.protocolOf(bytes, at)).toBe(parsed.protocol)
        expect(Ipv4.sourceOf(bytes, at)).toBe(parsed.source)
        expect(Ipv4.destinationOf(bytes, at)).toBe(parsed.destination)
        expect(Ipv4.isFragment(bytes, at)).toBe(parsed.moreFragments || parsed.fragmentOffset !== 0)
      }),
    )
  })

  it("tolerates options: skipped and exposed as a view", () => {
    // IHL 6 with a Router Alert option, total length 34, then 12 bytes of Ethernet padding.
    const bytes = placeAt(hex("4600002200070000011139c30a000002e00000fb94040000 14e914e9000a82a16869 000000000000000000000000"), 3)
    const parsed = Ipv4.parse(bytes)
    if (parsed._tag === "Rejected") throw new Error(parsed.reason)
    expect(parsed).toMatchObject({ headerLength: 24, totalLength: 34, ttl: 1, protocol: 17, checksum: 0x39c3 })
    expect(parsed.options).toEqual(hex("94040000"))
    expect(sameMemory(parsed.options, bytes, 20)).toBe(true)
    expect(parsed.payload).toEqual(hex("14e914e9000a82a16869"))
  })

  it("rejects every truncation of a packet", () => {
    const packet = simplePacket(30)
    for (let n = 0; n < packet.length; n++) {
      expect(Ipv4.parse(packet.subarray(0, n))).toBe(Ipv4.parse(new Uint8Array(0)))
      expect(Ipv4.parse(packet.subarray(0, n))).toMatchObject({ _tag: "Rejected", layer: "ipv4", reason: "truncated" })
    }
  })

  it("rejects a bad version, IHL or total length", () => {
    const version6 = simplePacket()
    version6[0] = 0x65
    expect(Ipv4.parse(fixChecksum(version6, 20))).toMatchObject({ reason: "bad-version" })
    for (let ihl = 0; ihl < 5; ihl++) {
      const bytes = simplePacket()
      bytes[0] = 0x40 | ihl
      expect(Ipv4.parse(bytes)).toMatchObject({ reason: "bad-header-length" })
    }
    // IHL 7 (28 bytes) but a total length of 24.
    const longIhl = simplePacket(8)
    longIhl[0] = 0x47
    longIhl[3] = 24
    expect(Ipv4.parse(fixChecksum(longIhl, 20))).toMatchObject({ reason: "bad-total-length" })
    // Total length over the input.
    const long = simplePacket(8)
    long[3] = 29
    expect(Ipv4.parse(fixChecksum(long, 20))).toMatchObject({ reason: "truncated" })
  })

  it("rejects any single-bit error in the header", () => {
    const packet = simplePacket(8)
    for (let bit = 0; bit < 20 * 8; bit++) {
      const bytes = packet.slice()
      bytes[bit >>> 3]! ^= 0x80 >>> (bit & 7)
      const parsed = Ipv4.parse(bytes)
      expect(parsed._tag).toBe("Rejected")
      // Bits outside version/IHL/total length can only be caught by the checksum.
      if (bit >= 32 || (bit >= 8 && bit < 16)) expect(parsed).toMatchObject({ reason: "bad-checksum" })
    }
    expect(Ipv4.parse(packet, true)._tag).toBe("Ipv4Packet")
    const corrupt = packet.slice()
    corrupt[8] = 1
    expect(Ipv4.parse(corrupt, false)._tag).toBe("Ipv4Packet")
  })

  it("plans fragments: contiguous, 8-byte aligned, within the MTU", () => {
    expect(Ipv4.fragments(1480, 1500)).toEqual([{ offset: 0, length: 1480, more: false }])
    expect(Ipv4.fragments(3000, 1500)).toEqual([
      { offset: 0, length: 1480, more: true },
      { offset: 1480, length: 1480, more: true },
      { offset: 2960, length: 40, more: false },
    ])
    expect(() => Ipv4.fragments(100, 27)).toThrow(RangeError)
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 65515 }), fc.integer({ min: 28, max: 70000 }), (length, mtu) => {
        const pieces = Ipv4.fragments(length, mtu)
        let at = 0
        pieces.forEach((piece, i) => {
          const last = i === pieces.length - 1
          const ok = piece.offset === at && piece.more === !last && 20 + piece.length <= mtu &&
            (last || piece.length % 8 === 0)
          if (!ok) throw new Error(`bad piece ${JSON.stringify(piece)} at ${i} of ${pieces.length}`)
          at += piece.length
        })
        expect(at).toBe(length)
      }),
      { numRuns: 300 },
    )
  })

  it("emits fragments that parse with MF and offset", () => {
    const base = { identification: 0x4242, ttl: 64, protocol: 17, source: 1, destination: 2, payloadLength: 3000 }
    const pieces = Ipv4.fragments(3000, 1500)
    pieces.forEach((piece) => {
      const buffer = new Uint8Array(40 + piece.length).subarray(5)
      expect(Ipv4.emitFragment(base, piece, buffer, 3)).toBe(20)
      const parsed = Ipv4.parse(buffer.subarray(3))
      expect(parsed).toMatchObject({
        _tag: "Ipv4Packet",
        identification: 0x4242,
        moreFragments: piece.more,
        fragmentOffset: piece.offset,
        totalLength: 20 + piece.length,
      })
    })
  })

  it("parses an embedded (quoted) header leniently", () => {
    // The IPv4 header and 8 bytes of a UDP datagram whose total length is 36.
    const quoted = hex("4500002412340000401154930a0000020a000001 9c40270f00106b2b")
    const parsed = Ipv4.parseEmbedded(quoted)
    if (parsed._tag === "Rejected") throw new Error(parsed.reason)
    expect(parsed).toMatchObject({ totalLength: 36, protocol: 17, source: 0x0a000002, destination: 0x0a000001 })
    expect(parsed.payload).toEqual(hex("9c40270f00106b2b"))
    expect(Ipv4.parse(quoted)).toMatchObject({ reason: "truncated" })
    expect(Ipv4.parseEmbedded(quoted.subarray(0, 19))).toMatchObject({ layer: "ipv4-embedded", reason: "truncated" })
    const ihl = quoted.slice()
    ihl[0] = 0x48
    expect(Ipv4.parseEmbedded(ihl.subarray(0, 28))).toMatchObject({ reason: "truncated" })
    ihl[0] = 0x44
    expect(Ipv4.parseEmbedded(ihl)).toMatchObject({ reason: "bad-header-length" })
    ihl[0] = 0x55
    expect(Ipv4.parseEmbedded(ihl)).toMatchObject({ reason: "bad-version" })
  })

  it("emit refuses fields out of range and small buffers", () => {
    const base = { identification: 1, ttl: 64, protocol: 6, source: 1, destination: 2, payloadLength: 0 }
    expect(() => Ipv4.emit(base, new Uint8Array(19))).toThrow(RangeError)
    expect(() => Ipv4.emit({ ...base, fragmentOffset: 12 }, new Uint8Array(20))).toThrow(RangeError)
    expect(() => Ipv4.emit({ ...base, fragmentOffset: 0x10000 }, new Uint8Array(20))).toThrow(RangeError)
    expect(() => Ipv4.emit({ ...base, ttl: 256 }, new Uint8Array(20))).toThrow(RangeError)
    expect(() => Ipv4.emit({ ...base, dscp: 64 }, new Uint8Array(20))).toThrow(RangeError)
    expect(() => Ipv4.emit({ ...base, payloadLength: 65516 }, new Uint8Array(20))).toThrow(RangeError)
    expect(() => Ipv4.emit({ ...base, source: 2 ** 32 }, new Uint8Array(20))).toThrow(RangeError)
    expect(Ipv4.emit({ ...base, payloadLength: 65515 }, new Uint8Array(20))).toBe(20)
  })
})
