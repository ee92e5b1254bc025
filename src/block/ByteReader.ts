/**
 * Byte-addressed reads over a `Block` device, for file-system and archive
 * readers: every range is checked against the device first (a hostile image
 * cannot make us read outside it), unaligned ranges are widened to whole
 * sectors, and small sequential reads can share a read-ahead window.
 */
import { Effect } from "effect"
import type { Block, BlockError } from "./Block.ts"
import { KvCorrupt } from "./KvRo.ts"

/** Reads ranges of a device's bytes. */
export interface ByteReader {
  /** The device's size in bytes. */
  readonly size: number
  /** `length` fresh bytes at `offset` (a view into a buffer no one else holds). */
  readonly read: (offset: number, length: number) => Effect.Effect<Uint8Array, BlockError | KvCorrupt>
  /** Fill `target` from `offset` (straight into `target` when the range is sector-aligned). */
  readonly readInto: (offset: number, target: Uint8Array) => Effect.Effect<void, BlockError | KvCorrupt>
  /**
   * `length` bytes at `offset` from a read-ahead window of at least
   * `windowBytes`: consecutive small reads (headers, directory entries) cost
   * one device read per window. The result must not be modified.
   */
  readonly readAhead: (offset: number, length: number) => Effect.Effect<Uint8Array, BlockError | KvCorrupt>
}

/** Read-ahead window size: large enough to hold many tar headers or directory clusters. */
const windowBytes = 256 * 1024

/** A byte reader over `block`; out-of-range requests fail with `KvCorrupt` naming `format`. */
export const makeByteReader = (block: Block["Service"], format: string): Effect.Effect<ByteReader> =>
  Effect.map(block.info, (info) => {
    const sectorSize = info.sectorSize
    const size = Number(info.sectors) * sectorSize
    const outside = (offset: number, length: number): KvCorrupt | undefined =>
      Number.isSafeInteger(offset) && Number.isSafeInteger(length) && offset >= 0 && length >= 0 && offset + length <= size
        ? undefined
        : new KvCorrupt({ format, reason: `it points at bytes ${offset}..${offset + length} outside the ${size}-byte device` })
    /** Read the whole sectors covering `[offset, offset + length)`; returns the buffer and where the range starts in it. */
    const readCovering = (offset: number, length: number) => {
      const first = Math.floor(offset / sectorSize)
      const end = Math.ceil((offset + length) / sectorSize)
      const buffer = new Uint8Array((end - first) * sectorSize)
      return Effect.as(block.read(BigInt(first), [buffer]), { buffer, skip: offset - first * sectorSize })
    }
    const read = (offset: number, length: number): Effect.Effect<Uint8Array, BlockError | KvCorrupt> => {
      const invalid = outside(offset, length)
      if (invalid !== undefined) return Effect.fail(invalid)
      return Effect.map(readCovering(offset, length), ({ buffer, skip }) => buffer.subarray(skip, skip + length))
    }
    const readInto = (offset: number, target: Uint8Array): Effect.Effect<void, BlockError | KvCorrupt> => {
      const invalid = outside(offset, target.length)
      if (invalid !== undefined) return Effect.fail(invalid)
      if (offset % sectorSize === 0 && target.length % sectorSize === 0) return block.read(BigInt(offset / sectorSize), [target])
      return Effect.map(read(offset, target.length), (bytes) => target.set(bytes))
    }
    let window = { offset: 0, bytes: new Uint8Array(0) }
    const readAhead = (offset: number, length: number): Effect.Effect<Uint8Array, BlockError | KvCorrupt> => {
      const invalid = outside(offset, length)
      if (invalid !== undefined) return Effect.fail(invalid)
      const start = offset - window.offset
      if (start >= 0 && start + length <= window.bytes.length) return Effect.succeed(window.bytes.subarray(start, start + length))
      const span = Math.min(Math.max(length, windowBytes), size - offset)
      return Effect.map(readCovering(offset, span), ({ buffer, skip }) => {
        window = { offset: offset - skip, bytes: buffer }
        return buffer.subarray(skip, skip + length)
      })
    }
    return { size, read, readInto, readAhead }
  })
