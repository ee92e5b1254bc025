/**
 * The Internet checksum (RFC 1071): the 16-bit one's complement of the one's
 * complement sum of the data taken as big-endian 16-bit words.
 *
 * The work is split the RFC 1071 way:
 * - `sum` gives the folded one's complement sum of a byte range (0..0xffff,
 *   not complemented), the unit of incremental computation;
 * - `add` / `combine` add sums of parts (`combine` handles a first part of odd
 *   length by byte-swapping the second, RFC 1071 §2(B));
 * - `finish` complements a sum into the value written on the wire.
 *
 * `sum` is the hot path of every UDP/TCP packet. Ranges of 64 bytes or more
 * in memory from `simdSlab` (the frame pool's) are summed with WebAssembly
 * SIMD (simd.ts), three to four times faster; others as native 32-bit words
 * through a `Uint32Array` view of the backing buffer (no copy), accumulated
 * in a float (exact below 2^53) and folded once at the end. Both sum
 * little-endian words: one's complement addition is byte-order independent,
 * so byte-swapping the folded result gives the big-endian sum (RFC 1071
 * §2(B)). Shorter ranges (headers) use two-byte reads. The word view (or
 * SIMD sum) of the last backing buffer is kept (and with it a reference to
 * that buffer) so that summing packets of one ring or pool looks up nothing.
 */
import { SIMD_MAX_RANGE, simdSumOf } from "./simd.ts"
import type { SimdSum } from "./simd.ts"

/** Below this many bytes, the word path's fixed cost is more than it saves (measured). */
const BULK_THRESHOLD = 64

/** Words summed before folding, so the float accumulator stays exact (< 2^53). */
const CHUNK_WORDS = 1 << 20

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

/** Fold a non-negative sum (exact integer < 2^53) to 16 bits with end-around carries. */
export const fold = (s: number): number => {
  while (s > 0xffffffff) s = (s % 0x10000) + Math.floor(s / 0x10000)
  // Below 2^32: integer arithmetic; two steps bring any 32-bit value to 16 bits.
  s = (s >>> 16) + (s & 0xffff)
  return (s >>> 16) + (s & 0xffff)
}

/** Swap the two bytes of a 16-bit value. */
export const swap16 = (x: number): number => ((x >>> 8) | (x << 8)) & 0xffff

/** Byte-by-byte (two bytes at a time) sum; for short ranges. */
const sumSmall = (b: Uint8Array, start: number, end: number): number => {
  let s = 0
  let i = start
  const last = end - 1
  for (; i < last; i += 2) s += (b[i]! << 8) | b[i + 1]!
  if (i < end) s += b[i]! << 8
  return fold(s)
}

/*
 * A word view over the whole backing buffer of the last array summed: packets
 * usually live in one long-lived buffer (a NIC ring, a pool), so this saves
 * creating a view per call. It is re-created when the buffer changes or the
 * range is past its end (a grown resizable buffer).
 */
let cachedBuffer: ArrayBufferLike | undefined
let cachedWords: Uint32Array<ArrayBufferLike> = new Uint32Array(0)

const wordsOf = (buffer: ArrayBufferLike, wordEnd: number): Uint32Array<ArrayBufferLike> => {
  if (buffer !== cachedBuffer || wordEnd > cachedWords.length) {
    cachedWords = new Uint32Array(buffer, 0, buffer.byteLength >>> 2)
    cachedBuffer = buffer
  }
  return cachedWords
}

/** Sum of a range whose absolute start address is even. */
const sumEven = (b: Uint8Array, start: number, end: number): number => {
  let s = 0
  let i = start
  if (((b.byteOffset + i) & 2) !== 0) {
    s = (b[i]! << 8) | b[i + 1]!
    i += 2
  }
  const words = (end - i) >>> 2
  if (words > 0) {
    // Word indexes in the backing buffer (the absolute address is now 4-aligned).
    const first = (b.byteOffset + i) >>> 2
    const last = first + words
    const w = wordsOf(b.buffer, last)
    let acc = 0
    let k = first
    while (k < last) {
      // Fold every CHUNK_WORDS words so the float accumulator stays exact (< 2^53).
      const stop = last - k > CHUNK_WORDS ? k + CHUNK_WORDS : last
      const stop4 = stop - 3
      for (; k < stop4; k += 4) acc += w[k]! + w[k + 1]! + w[k + 2]! + w[k + 3]!
      for (; k < stop; k++) acc += w[k]!
      acc = fold(acc)
    }
    s += LITTLE_ENDIAN ? swap16(acc) : acc
    i += words * 4
  }
  const last = end - 1
  for (; i < last; i += 2) s += (b[i]! << 8) | b[i + 1]!
  if (i < end) s += b[i]! << 8
  return fold(s)
}

/* The SIMD sum of the last backing buffer looked up, as `wordsOf` keeps its view. */
let simdBuffer: ArrayBufferLike | undefined
let simdSum: SimdSum | undefined

/** Sum of an absolute range of a SIMD slab, in calls of at most SIMD_MAX_RANGE (an even length, so the byte pairs line up). */
const sumSimd = (simd: SimdSum, start: number, end: number): number => {
  let s = 0
  for (let at = start; at < end; at += SIMD_MAX_RANGE) s += simd(at, Math.min(end, at + SIMD_MAX_RANGE))
  return swap16(fold(s))
}

/**
 * The one's complement sum of `bytes[start, end)` as big-endian 16-bit words,
 * folded to 16 bits (0..0xffff) and not complemented. An odd final byte is
 * padded with a zero byte. Out-of-range bounds are clamped to the array.
 */
export const sum = (bytes: Uint8Array, start = 0, end = bytes.length): number => {
  if (start < 0) start = 0
  if (end > bytes.length) end = bytes.length
  if (end - start < BULK_THRESHOLD) return end > start ? sumSmall(bytes, start, end) : 0
  if (bytes.buffer !== simdBuffer) {
    simdBuffer = bytes.buffer
    simdSum = simdSumOf(simdBuffer)
  }
  if (simdSum !== undefined) return sumSimd(simdSum, bytes.byteOffset + start, bytes.byteOffset + end)
  if (((bytes.byteOffset + start) & 1) === 0) return sumEven(bytes, start, end)
  // Odd address: the first byte is a high byte on its own; the rest, summed
  // from an even address, pairs its bytes the other way round, so its sum is
  // the byte-swap of their true contribution.
  return fold((bytes[start]! << 8) + swap16(sumEven(bytes, start + 1, end)))
}

/** One's complement addition of two 16-bit sums (or any non-negative integers). */
export const add = (a: number, b: number): number => fold(a + b)

/**
 * Sum of a concatenation from the sums of its parts: `first` is the sum of a
 * part of `firstLength` bytes, `second` the sum of the part that follows it.
 * When the first part has odd length, the second part's words straddle the
 * boundary, and its sum is byte-swapped (RFC 1071 §2(B)).
 */
export const combine = (first: number, second: number, firstLength: number): number =>
  fold(first + ((firstLength & 1) === 0 ? second : swap16(second)))

/** The checksum field value for a sum: its one's complement. */
export const finish = (s: number): number => ~s & 0xffff

/** The Internet checksum of `bytes[start, end)`, optionally continuing an `initial` sum. */
export const checksum = (bytes: Uint8Array, start = 0, end = bytes.length, initial = 0): number =>
  finish(fold(initial + sum(bytes, start, end)))

/**
 * Whether `bytes[start, end)`, which contains its own checksum field, verifies:
 * the sum over data and checksum (plus `initial`, e.g. a pseudo-header sum) is
 * 0xffff (one's complement negative zero).
 */
export const verify = (bytes: Uint8Array, start = 0, end = bytes.length, initial = 0): boolean =>
  fold(initial + sum(bytes, start, end)) === 0xffff

/**
 * The sum of the IPv4 pseudo-header used by UDP and TCP (RFC 768, RFC 9293):
 * source and destination addresses (as unsigned 32-bit numbers), zero,
 * protocol number and upper-layer length.
 */
export const pseudoHeaderSum = (source: number, destination: number, protocol: number, length: number): number =>
  fold(
    (source >>> 16) + (source & 0xffff) + (destination >>> 16) + (destination & 0xffff) + protocol + length,
  )

/**
 * Incremental update of a checksum field when one 16-bit word of the covered
 * data changes from `oldWord` to `newWord` (RFC 1624 eqn. 3:
 * HC' = ~(~HC + ~m + m')). Useful for TTL decrements and address rewrites.
 * Exact unless all the covered data is zero (then it gives 0x0000 for 0xffff).
 */
export const update = (oldChecksum: number, oldWord: number, newWord: number): number =>
  finish(fold((~oldChecksum & 0xffff) + (~oldWord & 0xffff) + (newWord & 0xffff)))
