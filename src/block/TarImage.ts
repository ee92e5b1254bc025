/**
 * Build a tar archive from a directory, in TypeScript: ustar members, with a
 * pax header for long or non-ASCII names and sizes past 8 GiB. GNU `tar`
 * lists and extracts it as the original tree (times to the second).
 */
import { Effect } from "effect"
import { writeFile } from "node:fs/promises"
import { KvBuildError, scanDirectory } from "./DirectoryScan.ts"
import type { SourceEntry } from "./DirectoryScan.ts"
import { encodeMember, tarBlock } from "./TarFormat.ts"

/**
 * The bytes of a tar archive holding `entries` (as `scanDirectory` returns
 * them, the root itself left out), in their order, ending with two zero
 * blocks. Owner and group are 0.
 */
export const tarOfEntries = (entries: ReadonlyArray<SourceEntry>): Uint8Array => {
  const blocks = entries
    .filter((entry) => entry.segments.length > 0)
    .flatMap((entry) => encodeMember({
      name: entry.segments.join("/") + (entry.kind === "dictionary" ? "/" : ""),
      type: entry.kind === "dictionary" ? "5" : "0",
      mode: entry.mode,
      mtime: Math.floor(entry.mtime / 1000),
      data: entry.data,
    }))
  const archive = new Uint8Array(blocks.reduce((total, block) => total + block.length, 0) + 2 * tarBlock)
  let at = 0
  for (const block of blocks) {
    archive.set(block, at)
    at += block.length
  }
  return archive
}

/** Build step: write a tar archive of the directory `dir` to `output`. */
export const makeTarImage = (dir: string, output: string): Effect.Effect<void, KvBuildError> =>
  Effect.gen(function* () {
    const archive = tarOfEntries(yield* scanDirectory(dir))
    yield* Effect.tryPromise({
      try: () => writeFile(output, archive),
      catch: (cause) => new KvBuildError({ step: `writing ${output}`, reason: "the archive could not be written", cause }),
    })
  })
