/**
 * TCP sequence number arithmetic modulo 2^32 (RFC 9293 §3.4, RFC 1982).
 *
 * Sequence numbers are unsigned 32-bit numbers. Comparisons are meaningful
 * only between numbers less than 2^31 apart: `a` is "before" `b` when the
 * signed 32-bit difference `a - b` is negative.
 */

/** `a + n` modulo 2^32 (`n` may be negative). */
export const seqAdd = (a: number, n: number): number => (a + n) >>> 0

/** The signed distance from `b` to `a` (`a - b`), in [-2^31, 2^31). */
export const seqDiff = (a: number, b: number): number => (a - b) | 0

/** `a < b` modulo 2^32. */
export const seqLt = (a: number, b: number): boolean => ((a - b) | 0) < 0

/** `a ≤ b` modulo 2^32. */
export const seqLeq = (a: number, b: number): boolean => ((a - b) | 0) <= 0

/** `a > b` modulo 2^32. */
export const seqGt = (a: number, b: number): boolean => ((a - b) | 0) > 0

/** `a ≥ b` modulo 2^32. */
export const seqGeq = (a: number, b: number): boolean => ((a - b) | 0) >= 0

/** The later of two sequence numbers. */
export const seqMax = (a: number, b: number): number => (seqLt(a, b) ? b : a)

/** The earlier of two sequence numbers. */
export const seqMin = (a: number, b: number): number => (seqLt(a, b) ? a : b)

/** Whether `x` is in the window `[start, start + length)` modulo 2^32 (`length` ≤ 2^32). */
export const seqInWindow = (x: number, start: number, length: number): boolean => ((x - start) >>> 0) < length
