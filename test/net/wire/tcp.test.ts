import * as fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as Checksum from "../../../src/net/wire/checksum.ts"
import * as Tcp from "../../../src/net/wire/tcp.ts"
import { bufferFor, hex, ipv4, placement, sameMemory, u16, u32, u8 } from "./vectors.ts"

const SRC = 0x0a000001
const DST = 0x0a000002

const maybe = <A>(arb: fc.Arbitrary<A>) => fc.option(arb, { nil: undefined })

const options: fc.Arbitrary<Tcp.OptionsInit> = fc
  .record(
    {
      mss: maybe(u16),
      windowScale: maybe(fc.integer({ min: 0, max: Tcp.MAX_WINDOW_SCALE })),
      sackPermitted: fc.boolean(),
      sack: maybe(fc.array(fc.record({ left: u32, right: u32 }), { minLength: 1, maxLength: 4 })),
      timestamps: maybe(fc.record({ tsVal: u32, tsEcr: u32 })),
    },
    { requiredKeys: [] },
  )
  .filter((o) => Tcp.optionsLength(o) <= Tcp.MAX_OPTIONS_LENGTH)

const header = fc.record({
  sourcePort: u16,
  destinationPort: u16,
  sequenceNumber: u32,
  acknowledgmentNumber: u32,
  flags: u8,
  window: u16,
  urgentPointer: u16,
  options,
})

/** What parse gives for emitted options. */
const normalize = (o: Tcp.OptionsInit): Tcp.Options => ({
  mss: o.mss,
  windowScale: o.windowScale,
  sackPermitted: o.sackPermitted === true,
  sack: o.sack !== undefined && o.sack.length > 0 ? o.sack : undefined,
  timestamps: o.timestamps,
})

/** A segment with raw option bytes (padded with EOL to 4 bytes), data "ab", and a valid checksum. */
const withRawOptions = (raw: Uint8Array): Uint8Array => {
  const optionLength = (raw.length + 3) & ~3
  const bytes = new Uint8Array(20 + optionLength + 2)
  Tcp.emit(
    { sourcePort: 1, destinationPort: 2, sequenceNumber: 3, acknowledgmentNumber: 4, flags: Tcp.Flags.SYN, window: 5, payloadLength: 0 },
    bytes,
    0,
    SRC,
    DST,
  )
  bytes[12] = ((20 + optionLength) >>> 2) << 4
  bytes.set(raw, 20)
  bytes.set([0x61, 0x62], 20 + optionLength)
  bytes[16] = 0
  bytes[17] = 0
  const c = Checksum.checksum(bytes, 0, bytes.length, Checksum.pseudoHeaderSum(SRC, DST, 6, bytes.length))
  bytes[16] = c >>> 8
  bytes[17] = c & 0xff
  return bytes
}

const segmentOf = (bytes: Uint8Array): Tcp.Segment => {
  const parsed = Tcp.parse(bytes, SRC, DST)
  if (parsed._tag === "Rejected") throw new Error(`rejected: ${parsed.reason}`)
  return parsed
}

describe("TCP", () => {
  it("round-trips random headers and options at any byteOffset and offset", () => {
    fc.assert(
      fc.property(header, ipv4, ipv4, fc.uint8Array({ maxLength: 100 }), placement, (h, src, dst, payload, p) => {
        const hl = Tcp.headerLength(h.options)
        const buffer = bufferFor(p, Tcp.bufferLength(h.options, payload.length))
        buffer.set(payload, p.offset + hl)
        expect(Tcp.emit({ ...h, payloadLength: payload.length }, buffer, p.offset, src, dst)).toBe(hl)
        expect(hl % 4).toBe(0)
        const bytes = buffer.subarray(p.offset, p.offset + hl + payload.length)
        const parsed = Tcp.parse(bytes, src, dst)
        if (parsed._tag === "Rejected") throw new Error(parsed.reason)
        const { options: _, ...fields } = h
        expect(parsed).toMatchObject({ ...fields, headerLength: hl })
        expect(parsed.options).toEqual(normalize(h.options))
        expect(parsed.payload).toEqual(payload)
        expect(sameMemory(parsed.payload, bytes, hl)).toBe(true)
      }),
      { numRuns: 500 },
    )
  })

  it("lays options out aligned, as Linux does", () => {
    const bytes = new Uint8Array(60)
    const syn = { mss: 1460, sackPermitted: true, timestamps: { tsVal: 0x01020304, tsEcr: 0 }, windowScale: 7 }
    const h = { sourcePort: 54321, destinationPort: 8080, sequenceNumber: 0xdeadbeef, acknowledgmentNumber: 0, flags: Tcp.Flags.SYN, window: 64240, options: syn, payloadLength: 0 }
    expect(Tcp.emit(h, bytes, 0, SRC, DST)).toBe(40)
    expect(bytes.subarray(20, 40)).toEqual(hex("020405b4 0402080a 01020304 00000000 01030307"))
    expect(Tcp.optionsLength({ timestamps: { tsVal: 1, tsEcr: 2 } })).toBe(12)
    expect(Tcp.emit({ ...h, options: { timestamps: { tsVal: 1, tsEcr: 2 } } }, bytes, 0, SRC, DST)).toBe(32)
    expect(bytes.subarray(20, 32)).toEqual(hex("0101080a 00000001 00000002"))
    expect(Tcp.emit({ ...h, options: { sackPermitted: true } }, bytes, 0, SRC, DST)).toBe(24)
    expect(bytes.subarray(20, 24)).toEqual(hex("01010402"))
    expect(Tcp.emit({ ...h, options: { sack: [{ left: 1, right: 2 }] } }, bytes, 0, SRC, DST)).toBe(32)
    expect(bytes.subarray(20, 32)).toEqual(hex("0101050a 00000001 00000002"))
    expect(Tcp.emit({ ...h, options: {} }, bytes, 0, SRC, DST)).toBe(20)
    expect(Tcp.emit({ ...h, options: { sack: [] } }, bytes, 0, SRC, DST)).toBe(20)
  })

  it("parses options: NOP, EOL, unknown kinds skipped by length", () => {
    const s = segmentOf(withRawOptions(hex("01 1e04abcd fd02 020405dc 00 0303ff")))
    expect(s.options).toEqual({ mss: 1500, windowScale: undefined, sackPermitted: false, sack: undefined, timestamps: undefined })
    expect(s.payload).toEqual(hex("6162"))
    // A window scale over 14 is exposed as received.
    expect(segmentOf(withRawOptions(hex("01030310"))).options.windowScale).toBe(16)
    // Four SACK blocks.
    const four = segmentOf(withRawOptions(hex("0101 0522" + "00000001000000020000000300000004000000050000000600000007ffffffff")))
    expect(four.options.sack).toEqual([
      { left: 1, right: 2 },
      { left: 3, right: 4 },
      { left: 5, right: 6 },
      { left: 7, right: 0xffffffff },
    ])
    // No options at all: the shared empty value.
    expect(segmentOf(withRawOptions(new Uint8Array(0))).options).toBe(Tcp.NO_OPTIONS)
  })

  it("rejects malformed option lengths", () => {
    const malformed = [
      "0203 05", // MSS with length 3
      "020505dc00", // MSS with length 5
      "030403 07", // window scale with length 4
      "0302", // window scale with length 2
      "0403 00", // SACK-permitted with length 3
      "0502", // SACK with no block
      "050b 0000000100000002 00", // SACK with length 11
      "051a 0000000100000002 00000003000000", // SACK past the end of the options
      "0809 0000000100000002", // timestamps with length 9
      "1e00", // unknown option with length 0
      "1e01", // unknown option with length 1
      "1e09 000000", // unknown option past the end
      "010101 1e", // a kind without its length byte, at the end
    ]
    for (const raw of malformed) {
      expect(Tcp.parse(withRawOptions(hex(raw)), SRC, DST), raw).toMatchObject({
        _tag: "Rejected",
        layer: "tcp",
        reason: "bad-option-length",
      })
    }
  })

  it("rejects a bad data offset", () => {
    for (let offset = 0; offset < 5; offset++) {
      const bytes = withRawOptions(new Uint8Array(0))
      bytes[12] = offset << 4
      expect(Tcp.parse(bytes, SRC, DST, false)).toMatchObject({ reason: "bad-data-offset" })
    }
    const bytes = withRawOptions(hex("020405b4"))
    bytes[12] = 0xf0 // 60 bytes of header in a 26-byte segment
    expect(Tcp.parse(bytes, SRC, DST, false)).toMatchObject({ reason: "bad-data-offset" })
  })

  it("rejects every truncation and any single-bit error", () => {
    const h = { sourcePort: 80, destinationPort: 1234, sequenceNumber: 1, acknowledgmentNumber: 2, flags: Tcp.Flags.ACK | Tcp.Flags.PSH, window: 100, options: { mss: 536, timestamps: { tsVal: 9, tsEcr: 8 } }, payloadLength: 5 }
    const bytes = new Uint8Array(Tcp.bufferLength(h.options, 5))
    bytes.set([1, 2, 3, 4, 5], Tcp.headerLength(h.options))
    expect(Tcp.emit(h, bytes, 0, SRC, DST)).toBe(36)
    expect(segmentOf(bytes).flags).toBe(0x18)
    for (let n = 0; n < bytes.length; n++) {
      expect(Tcp.parse(bytes.subarray(0, n), SRC, DST)._tag).toBe("Rejected")
    }
    for (let n = 0; n < 20; n++) expect(Tcp.parse(bytes.subarray(0, n), SRC, DST)).toMatchObject({ reason: "truncated" })
    for (let bit = 0; bit < bytes.length * 8; bit++) {
      const bad = bytes.slice()
      bad[bit >>> 3]! ^= 0x80 >>> (bit & 7)
      expect(Tcp.parse(bad, SRC, DST)._tag).toBe("Rejected")
    }
    expect(Tcp.parse(bytes, SRC + 1, DST)).toMatchObject({ reason: "bad-checksum" })
  })

  it("emit refuses options over 40 bytes and fields out of range", () => {
    const h = { sourcePort: 1, destinationPort: 2, sequenceNumber: 3, acknowledgmentNumber: 4, flags: 0, window: 5, payloadLength: 0 }
    const buffer = new Uint8Array(100)
    const block = { left: 1, right: 2 }
    expect(() => Tcp.emit({ ...h, options: { timestamps: { tsVal: 1, tsEcr: 1 }, sack: [block, block, block, block] } }, buffer, 0, SRC, DST)).toThrow(RangeError)
    expect(Tcp.emit({ ...h, options: { timestamps: { tsVal: 1, tsEcr: 1 }, sack: [block, block, block] } }, buffer, 0, SRC, DST)).toBe(60)
    expect(() => Tcp.emit({ ...h, options: { sack: [block, block, block, block, block] } }, buffer, 0, SRC, DST)).toThrow(RangeError)
    expect(() => Tcp.emit({ ...h, options: { windowScale: 15 } }, buffer, 0, SRC, DST)).toThrow(RangeError)
    expect(() => Tcp.emit({ ...h, options: { mss: 65536 } }, buffer, 0, SRC, DST)).toThrow(RangeError)
    expect(() => Tcp.emit({ ...h, sequenceNumber: 2 ** 32 }, buffer, 0, SRC, DST)).toThrow(RangeError)
    expect(() => Tcp.emit({ ...h, flags: 0x100 }, buffer, 0, SRC, DST)).toThrow(RangeError)
    expect(() => Tcp.emit({ ...h, payloadLength: 10 }, new Uint8Array(29), 0, SRC, DST)).toThrow(RangeError)
  })

  it("formats flags", () => {
    expect(Tcp.formatFlags(Tcp.Flags.SYN | Tcp.Flags.ACK)).toBe("SYN|ACK")
    expect(Tcp.formatFlags(0)).toBe("none")
    expect(Tcp.formatFlags(0xff)).toBe("FIN|SYN|RST|PSH|ACK|URG|ECE|CWR")
  })
})
