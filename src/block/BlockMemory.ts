/**
 * A `Block` device held in memory: for tests, and for serving an image that
 * was loaded or built in the same process.
 */
import { Effect, Layer } from "effect"
import { Block, BlockDisconnected, BlockReadOnly, checkRequest } from "./Block.ts"
import type { BlockError, BlockInfo } from "./Block.ts"

/** How to make a memory device: an empty disk of `sectors` sectors, or one holding `contents`. */
export type MemoryOptions = {
  readonly sectorSize?: number
  readonly readOnly?: boolean
} & ({ readonly sectors: number | bigint } | { readonly contents: Uint8Array })

/**
 * A disk in a `Uint8Array` (zero-filled, or a copy of `contents` padded to a
 * whole sector). Writes are durable as soon as they complete (there is nothing
 * below memory); after the layer is released every call fails with
 * `BlockDisconnected`.
 */
export const layerMemory = (options: MemoryOptions): Layer.Layer<Block> =>
  Layer.effect(Block, Effect.gen(function* () {
    const sectorSize = options.sectorSize ?? 512
    const sectors = "sectors" in options
      ? Number(options.sectors)
      : Math.ceil(options.contents.length / sectorSize)
    const disk = new Uint8Array(sectors * sectorSize)
    if ("contents" in options) disk.set(options.contents)
    const info: BlockInfo = { readWrite: options.readOnly !== true, sectorSize, sectors: BigInt(sectors) }
    const connected = yield* Effect.acquireRelease(
      Effect.sync(() => ({ value: true })),
      (state) => Effect.sync(() => { state.value = false }),
    )
    const transfer = (operation: "read" | "write") =>
      (sector: bigint, buffers: ReadonlyArray<Uint8Array>) => Effect.suspend((): Effect.Effect<void, BlockError> => {
        if (!connected.value) return Effect.fail(new BlockDisconnected({ operation }))
        const invalid = checkRequest(info, sector, buffers)
        if (invalid !== undefined) return Effect.fail(invalid)
        if (operation === "write" && !info.readWrite) return Effect.fail(new BlockReadOnly({ sector }))
        let offset = Number(sector) * sectorSize
        for (const buffer of buffers) {
          if (operation === "read") buffer.set(disk.subarray(offset, offset + buffer.length))
          else disk.set(buffer, offset)
          offset += buffer.length
        }
        return Effect.void
      })
    return Block.of({
      info: Effect.succeed(info),
      read: transfer("read"),
      write: transfer("write"),
      flush: Effect.suspend(() =>
        connected.value ? Effect.void : Effect.fail(new BlockDisconnected({ operation: "flush" }))),
    })
  }))
