/**
 * A `Block` device backed by a host file (MirageOS `block_of_file`, the unix
 * target's disk image).
 */
import { Effect, Layer } from "effect"
import type { FileHandle } from "node:fs/promises"
import { open, readFile, realpath } from "node:fs/promises"
import { basename } from "node:path"
import { Block, BlockDisconnected, BlockIoFailure, BlockReadOnly, checkRequest } from "./Block.ts"
import type { BlockError, BlockInfo } from "./Block.ts"

/** Where the image is and how to use it. */
export interface FileOptions {
  /** The image file; it must exist (see `createImage`). */
  readonly path: string
  /** Bytes per sector; 512 by default. */
  readonly sectorSize?: number
  /** Open the file read-only: writes fail with `BlockReadOnly`. */
  readonly readOnly?: boolean
}

/** Move `buffer` to or from the file at `position`, looping over short transfers. */
const transferAll = async (
  handle: FileHandle,
  operation: "read" | "write",
  buffer: Uint8Array,
  position: number,
): Promise<void> => {
  let done = 0
  while (done < buffer.length) {
    const moved = operation === "read"
      ? (await handle.read(buffer, done, buffer.length - done, position + done)).bytesRead
      : (await handle.write(buffer, done, buffer.length - done, position + done)).bytesWritten
    if (moved === 0) throw new Error(`short ${operation} at byte ${position + done}: the file shrank under the device`)
    done += moved
  }
}

/** A block device's size in bytes: `stat` says 0 for one, sysfs counts its 512-byte sectors. */
const blockDeviceBytes = async (device: string): Promise<number> =>
  Number((await readFile(`/sys/class/block/${basename(await realpath(device))}/size`, "utf8")).trim()) * 512

/**
 * A disk image file (or a block device such as a VM's `/dev/vda`), opened
 * when the layer is built and closed when it is released (afterwards every
 * call fails with `BlockDisconnected`). The device
 * has `floor(fileSize / sectorSize)` sectors; a trailing partial sector is not
 * addressable. Reads and writes are positional (`pread`/`pwrite`), so
 * concurrent requests do not share a file offset.
 *
 * Durability: when a `write` succeeds its bytes are in the host's page cache:
 * they survive a crash of this process but not a power loss or a host crash.
 * `flush` calls `fdatasync(2)` on the image: when it succeeds, every write that
 * had succeeded before `flush` was called is on stable storage, together with
 * the file metadata needed to read it back (the file's size does not change,
 * since the device never grows). Writes still running while `flush` runs are
 * not covered. On a read-only device `flush` has nothing to do and succeeds.
 */
export const layerFile = (options: FileOptions): Layer.Layer<Block, BlockError> =>
  Layer.effect(Block, Effect.gen(function* () {
    const sectorSize = options.sectorSize ?? 512
    if (!Number.isInteger(sectorSize) || sectorSize <= 0) {
      return yield* Effect.die(new RangeError(`sector size ${sectorSize} is not a positive integer: use 512 or 4096`))
    }
    const readOnly = options.readOnly === true
    const state = yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: async () => ({ handle: await open(options.path, readOnly ? "r" : "r+"), connected: true }),
        catch: (cause) => new BlockIoFailure({ operation: `open ${options.path}`, cause }),
      }),
      (state) => Effect.promise(() => {
        state.connected = false
        return state.handle.close().catch(() => undefined)
      }),
    )
    const size = yield* Effect.tryPromise({
      try: async () => {
        const stat = await state.handle.stat()
        return stat.isBlockDevice() ? blockDeviceBytes(options.path) : stat.size
      },
      catch: (cause) => new BlockIoFailure({ operation: `stat ${options.path}`, cause }),
    })
    const info: BlockInfo = { readWrite: !readOnly, sectorSize, sectors: BigInt(Math.floor(size / sectorSize)) }
    const transfer = (operation: "read" | "write") =>
      (sector: bigint, buffers: ReadonlyArray<Uint8Array>) => Effect.suspend((): Effect.Effect<void, BlockError> => {
        if (!state.connected) return Effect.fail(new BlockDisconnected({ operation }))
        const invalid = checkRequest(info, sector, buffers)
        if (invalid !== undefined) return Effect.fail(invalid)
        if (operation === "write" && readOnly) return Effect.fail(new BlockReadOnly({ sector }))
        return Effect.tryPromise({
          try: async () => {
            let position = Number(sector) * sectorSize
            for (const buffer of buffers) {
              await transferAll(state.handle, operation, buffer, position)
              position += buffer.length
            }
          },
          catch: (cause) => new BlockIoFailure({ operation: `${operation} at sector ${sector}`, cause }),
        })
      })
    return Block.of({
      info: Effect.succeed(info),
      read: transfer("read"),
      write: transfer("write"),
      flush: Effect.suspend((): Effect.Effect<void, BlockError> => {
        if (!state.connected) return Effect.fail(new BlockDisconnected({ operation: "flush" }))
        if (readOnly) return Effect.void
        return Effect.tryPromise({
          try: () => state.handle.datasync(),
          catch: (cause) => new BlockIoFailure({ operation: "flush", cause }),
        })
      }),
    })
  }))
