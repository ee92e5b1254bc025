/**
 * Big-endian (network order) reads and writes on a `Uint8Array`.
 *
 * Byte reads rather than a `DataView`: no allocation per packet, and the
 * offsets are relative to the view, so a view into a larger buffer (non-zero
 * `byteOffset`) just works. Callers check lengths before reading.
 */

/** Unsigned 16-bit big-endian read. */
export const u16 = (b: Uint8Array, o: number): number => (b[o]! << 8) | b[o + 1]!

/** Unsigned 32-bit big-endian read (as a non-negative number). */
export const u32 = (b: Uint8Array, o: number): number =>
  ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0

/** 16-bit big-endian write (the value is taken modulo 2^16). */
export const put16 = (b: Uint8Array, o: number, v: number): void => {
  b[o] = v >>> 8
  b[o + 1] = v
}

/** 32-bit big-endian write (the value is taken modulo 2^32). */
export const put32 = (b: Uint8Array, o: number, v: number): void => {
  b[o] = v >>> 24
  b[o + 1] = v >>> 16
  b[o + 2] = v >>> 8
  b[o + 3] = v
}

/**
 * Check that `length` bytes fit in `buffer` at `offset` before an emit.
 * Emitting into a too-small buffer is a caller bug, so this throws `RangeError`
 * (parsers never throw; emitters do on caller bugs).
 */
export const ensureRoom = (buffer: Uint8Array, offset: number, length: number, what: string): void => {
  if (offset >>> 0 !== offset || offset + length > buffer.length) {
    throw new RangeError(`${what}: ${length} bytes do not fit at offset ${offset} in a buffer of ${buffer.length}`)
  }
}

/** Throw `RangeError` unless `value` is an integer in [0, 255]. */
export const check8 = (value: number, what: string): void => {
  if ((value & 0xff) !== value) fieldError(value, 0xff, what)
}

/** Throw `RangeError` unless `value` is an integer in [0, 65535]. */
export const check16 = (value: number, what: string): void => {
  if ((value & 0xffff) !== value) fieldError(value, 0xffff, what)
}

/** Throw `RangeError` unless `value` is an integer in [0, 2^32 - 1]. */
export const check32 = (value: number, what: string): void => {
  if (value >>> 0 !== value) fieldError(value, 0xffffffff, what)
}

/** Throw `RangeError` unless `value` is a MAC number (an integer in [0, 2^48)). */
export const checkMac = (value: number, what: string): void => {
  if (!(Number.isInteger(value) && value >= 0 && value <= 0xffffffffffff)) fieldError(value, 0xffffffffffff, what)
}

/** Throw `RangeError` unless `value` is an integer in [0, max] (`max` < 2^32). */
export const checkMax = (value: number, max: number, what: string): void => {
  if (value >>> 0 !== value || value > max) fieldError(value, max, what)
}

const fieldError = (value: number, max: number, what: string): never => {
  throw new RangeError(`${what}: ${value} is not an integer in [0, ${max}]`)
}
