/**
 * The `Block` device: a disk made of fixed-size sectors (MirageOS
 * `Mirage_block.S`). Reads and writes move whole sectors between the device
 * and caller-owned buffers; `flush` makes completed writes durable.
 */
import { Context, Data } from "effect"
import type { Effect } from "effect"

/** What a block device is: its size, its sector size and whether it can be written. */
export interface BlockInfo {
  /** `false` when every `write` fails with `BlockReadOnly`. */
  readonly readWrite: boolean
  /** Bytes per sector (512 unless configured otherwise). */
  readonly sectorSize: number
  /** Number of sectors; the device holds `sectors * sectorSize` bytes. */
  readonly sectors: bigint
}

/** A request touched sectors past the end of the device. */
export class BlockOutOfRange extends Data.TaggedError("BlockOutOfRange")<{
  readonly sector: bigint
  readonly count: bigint
  readonly sectors: bigint
}> {
  override get message(): string {
    return `sectors ${this.sector}..${this.sector + this.count - 1n} are outside a device of ${this.sectors} sectors: ` +
      `ask for sectors below ${this.sectors}`
  }
}

/** A buffer's length is not a whole number of sectors. */
export class BlockUnaligned extends Data.TaggedError("BlockUnaligned")<{
  readonly length: number
  readonly sectorSize: number
}> {
  override get message(): string {
    return `a buffer of ${this.length} bytes is not a whole number of ${this.sectorSize}-byte sectors: ` +
      `pass buffers whose length is a multiple of ${this.sectorSize}`
  }
}

/** A write reached a device opened read-only. */
export class BlockReadOnly extends Data.TaggedError("BlockReadOnly")<{ readonly sector: bigint }> {
  override get message(): string {
    return `cannot write sector ${this.sector}: the device is read-only (open it with readOnly: false to write)`
  }
}

/** The device was used after its layer was released (its file is closed). */
export class BlockDisconnected extends Data.TaggedError("BlockDisconnected")<{ readonly operation: string }> {
  override get message(): string {
    return `cannot ${this.operation}: the block device was disconnected when its layer was released; ` +
      `use it only inside the scope that provides it`
  }
}

/** The host reported an I/O error; `cause` is the original error. */
export class BlockIoFailure extends Data.TaggedError("BlockIoFailure")<{
  readonly operation: string
  readonly cause: unknown
}> {
  override get message(): string {
    const detail = this.cause instanceof Error ? this.cause.message : String(this.cause)
    return `block ${this.operation} failed: ${detail} (check the image file and the host disk)`
  }
}

/** Every way a block operation can fail. */
export type BlockError = BlockOutOfRange | BlockUnaligned | BlockReadOnly | BlockDisconnected | BlockIoFailure

/** A sector-addressed disk. */
export class Block extends Context.Service<Block, {
  /** The device's geometry and mode. */
  readonly info: Effect.Effect<BlockInfo>
  /**
   * Fill `buffers`, one after the other, from consecutive sectors starting at
   * `sector`. Each buffer must be a whole number of sectors.
   */
  readonly read: (sector: bigint, buffers: ReadonlyArray<Uint8Array>) => Effect.Effect<void, BlockError>
  /** Write `buffers`, one after the other, to consecutive sectors starting at `sector`. */
  readonly write: (sector: bigint, buffers: ReadonlyArray<Uint8Array>) => Effect.Effect<void, BlockError>
  /** Make every write that completed before this call durable (see each layer for what that means). */
  readonly flush: Effect.Effect<void, BlockError>
}>()("effect-uk/Block") {}

/**
 * Check a request against the device: every buffer a whole number of sectors
 * and all of them inside the device. Returns the error to fail with, if any.
 */
export const checkRequest = (
  info: BlockInfo,
  sector: bigint,
  buffers: ReadonlyArray<Uint8Array>,
): BlockOutOfRange | BlockUnaligned | undefined => {
  let bytes = 0
  for (const buffer of buffers) {
    if (buffer.length % info.sectorSize !== 0) {
      return new BlockUnaligned({ length: buffer.length, sectorSize: info.sectorSize })
    }
    bytes += buffer.length
  }
  const count = BigInt(bytes / info.sectorSize)
  if (sector < 0n || sector + count > info.sectors) {
    return new BlockOutOfRange({ sector, count, sectors: info.sectors })
  }
  return undefined
}
