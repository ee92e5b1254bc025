import * as fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as Checksum from "../../../src/net/wire/checksum.ts"
import * as Icmpv4 from "../../../src/net/wire/icmpv4.ts"
import { bufferFor, placement, sameMemory, u16, u32, u8 } from "./vectors.ts"

const header: fc.Arbitrary<Icmpv4.Header> = fc.oneof(
  fc.record({
    _tag: fc.constant("Icmpv4Echo" as const),
    type: fc.constantFrom(0 as const, 8 as const),
    code: u8,
    identifier: u16,
    sequence: u16,
    payloadLength: fc.constant(0),
  }),
  fc.record({
    _tag: fc.constant("Icmpv4DestinationUnreachable" as const),
    type: fc.constant(3 as const),
    code: u8,
    nextHopMtu: u16,
    payloadLength: fc.constant(0),
  }),
  fc.record({
    _tag: fc.constant("Icmpv4TimeExceeded" as const),
    type: fc.constant(11 as const),
    code: u8,
    payloadLength: fc.constant(0),
  }),
  fc.record({
    _tag: fc.constant("Icmpv4Other" as const),
    type: u8.filter((t) => t !== 0 && t !== 3 && t !== 8 && t !== 11),
    code: u8,
    restOfHeader: u32,
    payloadLength: fc.constant(0),
  }),
)

describe("ICMPv4", () => {
  it("round-trips random messages at any byteOffset and offset", () => {
    fc.assert(
      fc.property(header, fc.uint8Array({ maxLength: 100 }), placement, (h, payload, p) => {
        const fields = { ...h, payloadLength: payload.length }
        const buffer = bufferFor(p, Icmpv4.bufferLength(payload.length))
        buffer.set(payload, p.offset + Icmpv4.HEADER_LENGTH)
        expect(Icmpv4.emit(fields, buffer, p.offset)).toBe(8)
        const message = buffer.subarray(p.offset, p.offset + 8 + payload.length)
        expect(Checksum.verify(message)).toBe(true)
        const parsed = Icmpv4.parse(message)
        if (parsed._tag === "Rejected") throw new Error(parsed.reason)
        const { payloadLength: _, ...expected } = fields
        expect(parsed).toMatchObject(expected)
        expect(parsed.payload).toEqual(payload)
        expect(sameMemory(parsed.payload, message, 8)).toBe(true)
      }),
    )
  })

  it("rejects truncated messages and any single-bit error", () => {
    const message = new Uint8Array(8 + 16)
    message.set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16], 8)
    Icmpv4.emit({ _tag: "Icmpv4Echo", type: 8, code: 0, identifier: 7, sequence: 9, payloadLength: 16 }, message)
    expect(Icmpv4.parse(message)._tag).toBe("Icmpv4Echo")
    for (let n = 0; n < 8; n++) expect(Icmpv4.parse(message.subarray(0, n))).toMatchObject({ reason: "truncated" })
    for (let n = 8; n < message.length; n++) {
      // The message is all of the input, so a shorter input is a different message, caught by the checksum.
      expect(Icmpv4.parse(message.subarray(0, n))._tag).toBe("Rejected")
    }
    for (let bit = 0; bit < message.length * 8; bit++) {
      const bytes = message.slice()
      bytes[bit >>> 3]! ^= 0x80 >>> (bit & 7)
      expect(Icmpv4.parse(bytes)).toMatchObject({ _tag: "Rejected", layer: "icmpv4", reason: "bad-checksum" })
      expect(Icmpv4.parse(bytes, false)._tag).not.toBe("Rejected")
    }
  })

  it("quotes the IP header and 8 bytes of an offending datagram", () => {
    expect(Icmpv4.quoteLength(new Uint8Array(100), 20)).toBe(28)
    expect(Icmpv4.quoteLength(new Uint8Array(100), 24)).toBe(32)
    expect(Icmpv4.quoteLength(new Uint8Array(25), 20)).toBe(25)
  })

  it("emit refuses a buffer too small for header and payload", () => {
    const h = { _tag: "Icmpv4Echo", type: 0, code: 0, identifier: 1, sequence: 2, payloadLength: 4 } as const
    expect(() => Icmpv4.emit(h, new Uint8Array(11))).toThrow(RangeError)
    expect(Icmpv4.emit(h, new Uint8Array(12))).toBe(8)
    expect(() => Icmpv4.emit({ ...h, identifier: 0x10000 }, new Uint8Array(12))).toThrow(RangeError)
  })
})
