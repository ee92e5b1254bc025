/**
 * The SIMD sum (simd.ts) behind `Checksum.sum` for frame-pool
 * memory: the same results as the RFC 1071 definition for every range,
 * alignment and length, including ranges longer than one call may sum.
 */
import * as fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as Checksum from "../../../src/net/wire/checksum.ts"
import { SIMD_MAX_RANGE, simdSlab, simdSumOf } from "../../../src/net/wire/simd.ts"
import { FramePool } from "../../../src/net/FramePool.ts"

/** Reference: the RFC 1071 definition, a word at a time, carries folded at the end. */
const naiveSum = (bytes: Uint8Array, start: number, end: number): number => {
  let s = 0
  for (let i = start; i < end; i += 2) s += (bytes[i]! << 8) | (i + 1 < end ? bytes[i + 1]! : 0)
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000)
  return s
}

const SLAB = 2 * 1024 * 1024
const slab = simdSlab(SLAB)
const seed = (bytes: Uint8Array, salt: number) => {
  let x = salt | 1
  for (let i = 0; i < bytes.length; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    bytes[i] = x & 0xff
  }
}

describe("SIMD Internet checksum sum", () => {
  it("backs slabs with WebAssembly memory on this Node, and frame pools use such slabs", () => {
    expect(simdSumOf(slab.buffer)).toBeDefined()
    expect(simdSumOf(new FramePool().take(1514).buffer)).toBeDefined()
    expect(simdSumOf(new Uint8Array(SLAB).buffer)).toBeUndefined()
  })

  it("equals the reference on random data, ranges and alignments", () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: 0, max: 4096 }), fc.integer({ min: 0, max: 9000 }), (salt, start, length) => {
        const region = slab.subarray(start, start + length + 64)
        seed(region, salt)
        for (const [from, to] of [[0, length], [1, length], [3, length + 1], [0, length + 64]] as const) {
          expect(Checksum.sum(region, from, to)).toBe(naiveSum(region, from, to))
        }
      }),
      { numRuns: 300 },
    )
  })

  it("sums ranges longer than one call may (no lane overflows), even at an odd start", () => {
    seed(slab, 7)
    slab.fill(0xff, 0, SIMD_MAX_RANGE) // the worst case for the lanes
    for (const [from, to] of [[0, SLAB], [1, SLAB - 1], [SIMD_MAX_RANGE - 3, SLAB]] as const) {
      expect(Checksum.sum(slab, from, to)).toBe(naiveSum(slab, from, to))
    }
  })

  it("gives the same checksums as a plain array holding the same bytes", () => {
    seed(slab, 11)
    const frame = slab.subarray(34, 34 + 1480)
    const copy = Uint8Array.from(frame)
    expect(Checksum.checksum(frame, 0, frame.length, 0x1234)).toBe(Checksum.checksum(copy, 0, copy.length, 0x1234))
    expect(Checksum.verify(frame)).toBe(Checksum.verify(copy))
  })
})
