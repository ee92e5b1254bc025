/**
 * Build and clean steps for disk images: create a zero-filled image of a given
 * size (what MirageOS does with `dd if=/dev/zero`), and delete it.
 */
import { Effect } from "effect"
import { rm, truncate, writeFile } from "node:fs/promises"
import { BlockIoFailure, BlockUnaligned } from "./Block.ts"

/**
 * Create (or replace) `path` as a zero-filled image of `bytes` bytes. The file
 * is sparse: it is extended with `truncate`, so the host allocates blocks only
 * when they are written. `bytes` must be a whole number of `sectorSize`
 * (512 by default) sectors.
 */
export const createImage = (
  path: string,
  bytes: number,
  sectorSize = 512,
): Effect.Effect<void, BlockUnaligned | BlockIoFailure> =>
  !Number.isSafeInteger(bytes) || bytes < 0 || bytes % sectorSize !== 0
    ? Effect.fail(new BlockUnaligned({ length: bytes, sectorSize }))
    : Effect.tryPromise({
      try: async () => {
        await writeFile(path, new Uint8Array(0))
        await truncate(path, bytes)
      },
      catch: (cause) => new BlockIoFailure({ operation: `create image ${path}`, cause }),
    })

/** Delete the image at `path`; deleting an image that does not exist succeeds. */
export const deleteImage = (path: string): Effect.Effect<void, BlockIoFailure> =>
  Effect.tryPromise({
    try: () => rm(path, { force: true }),
    catch: (cause) => new BlockIoFailure({ operation: `delete image ${path}`, cause }),
  })
