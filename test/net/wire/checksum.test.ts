import * as fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as Checksum from "../../../src/net/wire/checksum.ts"
import { hex } from "./vectors.ts"

/** Reference: the RFC 1071 definition, a word at a time, carries folded at the end. */
const naiveSum = (bytes: Uint8Array, start = 0, end = bytes.length): number => {
  let s = 0
  for (let i = start; i < end; i += 2) s += (bytes[i]! << 8) | (i + 1 < end ? bytes[i + 1]! : 0)
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000)
  return s
}

/** A byte array inside a larger buffer at `lead`, so every alignment is exercised. */
const atLead = (bytes: Uint8Array, lead: number): Uint8Array => {
  const backing = new Uint8Array(lead + bytes.length + 3).fill(0xff)
  backing.set(bytes, lead)
  return backing.subarray(lead, lead + bytes.length)
}

describe("Internet checksum", () => {
  it("matches the RFC 1071 §3 example", () => {
    const bytes = hex("0001f203f4f5f6f7")
    expect(Checksum.sum(bytes)).toBe(0xddf2)
    expect(Checksum.checksum(bytes)).toBe(0x220d)
    // Byte order independence (RFC 1071 §2(B)): the swapped data sums to the swapped sum.
    expect(Checksum.sum(hex("0100 03f2 f5f4 f7f6"))).toBe(0xf2dd)
  })

  it("of nothing is 0xffff", () => {
    expect(Checksum.sum(new Uint8Array(0))).toBe(0)
    expect(Checksum.checksum(new Uint8Array(0))).toBe(0xffff)
  })

  it("pads an odd final byte with zero", () => {
    expect(Checksum.sum(hex("ab"))).toBe(0xab00)
    expect(Checksum.sum(hex("0102ab"))).toBe(0x0102 + 0xab00)
  })

  it("equals the reference on random data, lengths, ranges and alignments", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 3000 }),
        fc.integer({ min: 0, max: 7 }),
        fc.nat(),
        fc.nat(),
        (data, lead, a, b) => {
          const bytes = atLead(data, lead)
          const start = data.length === 0 ? 0 : a % (data.length + 1)
          const end = start + (data.length === 0 ? 0 : b % (data.length - start + 1))
          expect(Checksum.sum(bytes, start, end)).toBe(naiveSum(data, start, end))
          expect(Checksum.sum(bytes)).toBe(naiveSum(data))
        },
      ),
      { numRuns: 2000 },
    )
  })

  it("equals the reference on large all-0xff data (carry-heavy) at every alignment", () => {
    for (let lead = 0; lead < 8; lead++) {
      for (const length of [64, 65, 1460, 1461, 9001, 70000]) {
        const data = new Uint8Array(length).fill(0xff)
        expect(Checksum.sum(atLead(data, lead))).toBe(naiveSum(data))
      }
    }
  })

  it("is right across different, growing and shrinking backing buffers", () => {
    const data = new Uint8Array(5000).map((_, i) => (i * 131 + 7) & 0xff)
    const a = atLead(data.subarray(0, 1000), 2)
    const b = atLead(data.subarray(0, 3000), 5)
    for (let round = 0; round < 3; round++) {
      expect(Checksum.sum(a)).toBe(naiveSum(data, 0, 1000))
      expect(Checksum.sum(b)).toBe(naiveSum(data, 0, 3000))
    }
    // Resizable buffers are ES2024; the project's lib is ES2023.
    const Resizable = ArrayBuffer as unknown as new (
      length: number,
      options: { maxByteLength: number },
    ) => ArrayBuffer & { resize(length: number): void }
    const resizable = new Resizable(1024, { maxByteLength: 8192 })
    const view = new Uint8Array(resizable) // length-tracking
    view.set(data.subarray(0, 1024))
    expect(Checksum.sum(view, 100)).toBe(naiveSum(data, 100, 1024))
    resizable.resize(5000)
    view.set(data)
    expect(Checksum.sum(view, 100)).toBe(naiveSum(data, 100, 5000))
    expect(Checksum.sum(view, 4000, 4800)).toBe(naiveSum(data, 4000, 4800))
    resizable.resize(600)
    expect(Checksum.sum(view, 4)).toBe(naiveSum(data, 4, 600))
    resizable.resize(6000)
    view.set(data)
    expect(Checksum.sum(view, 8, 5000)).toBe(naiveSum(data, 8, 5000))
  })

  it("combines sums of parts, odd first parts included", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.nat(), fc.integer({ min: 0, max: 3 }), (data, at, lead) => {
        const bytes = atLead(data, lead)
        const cut = data.length === 0 ? 0 : at % (data.length + 1)
        const first = Checksum.sum(bytes, 0, cut)
        const second = Checksum.sum(bytes, cut)
        const whole = Checksum.sum(bytes)
        const combined = Checksum.combine(first, second, cut)
        expect(combined).toBe(whole)
        if ((cut & 1) === 0) expect(Checksum.add(first, second)).toBe(combined)
      }),
      { numRuns: 1000 },
    )
  })

  it("verifies data carrying its own checksum", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 2, maxLength: 300 }), fc.nat(), (data, at) => {
        const bytes = data.slice()
        const field = (at % (bytes.length >>> 1)) * 2
        bytes[field] = 0
        bytes[field + 1] = 0
        const c = Checksum.checksum(bytes)
        bytes[field] = c >>> 8
        bytes[field + 1] = c & 0xff
        expect(Checksum.verify(bytes)).toBe(true)
        bytes[0]! ^= 0x10
        expect(Checksum.verify(bytes)).toBe(false)
      }),
    )
  })

  it("computes the IPv4 pseudo-header sum", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 0, max: 0xffff }),
        (src, dst, protocol, length) => {
          const pseudo = new Uint8Array(12)
          const dv = new DataView(pseudo.buffer)
          dv.setUint32(0, src)
          dv.setUint32(4, dst)
          pseudo[9] = protocol
          dv.setUint16(10, length)
          expect(Checksum.pseudoHeaderSum(src, dst, protocol, length)).toBe(naiveSum(pseudo))
        },
      ),
    )
  })

  it("updates a checksum incrementally when a word changes (RFC 1624)", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 4, maxLength: 100 }),
        fc.nat(),
        fc.integer({ min: 0, max: 0xffff }),
        (data, at, word) => {
          const bytes = data.slice()
          bytes[0] = 0
          bytes[1] = 0
          const old = Checksum.checksum(bytes)
          const i = 2 + (at % ((bytes.length - 2) >>> 1)) * 2
          const oldWord = (bytes[i]! << 8) | bytes[i + 1]!
          bytes[i] = word >>> 8
          bytes[i + 1] = word & 0xff
          // RFC 1624 §3: exact except when all the covered data is zero (which no IP header is).
          fc.pre(bytes.some((x) => x !== 0))
          const updated = Checksum.update(old, oldWord, word)
          bytes[0] = updated >>> 8
          bytes[1] = updated & 0xff
          expect(Checksum.verify(bytes)).toBe(true)
        },
      ),
    )
  })

  it("fold and finish", () => {
    expect(Checksum.fold(0x1ffff)).toBe(0x1)
    expect(Checksum.fold(0xffff)).toBe(0xffff)
    expect(Checksum.fold(2 ** 52)).toBe(Checksum.fold(2 ** 52 % 0xffff))
    expect(Checksum.finish(0xffff)).toBe(0)
    expect(Checksum.finish(0)).toBe(0xffff)
  })
})
