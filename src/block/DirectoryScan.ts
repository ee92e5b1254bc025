/**
 * Reading a host directory tree at build time, for the steps that turn it
 * into a store (crunch module, FAT image, tar archive).
 */
import { Data, Effect } from "effect"
import { lstat, readdir, readFile } from "node:fs/promises"
import { join } from "node:path"

/** A build step could not read the directory or encode the store. */
export class KvBuildError extends Data.TaggedError("KvBuildError")<{
  readonly step: string
  readonly reason: string
  readonly cause?: unknown
}> {
  override get message(): string {
    const detail = this.cause instanceof Error ? ` (${this.cause.message})` : ""
    return `${this.step} failed: ${this.reason}${detail}`
  }
}

/** A file or directory of the tree, with the data of files. */
export interface SourceEntry {
  /** Path from the root; `[]` is the root itself. */
  readonly segments: ReadonlyArray<string>
  readonly kind: "value" | "dictionary"
  /** Modification time in whole milliseconds since the epoch. */
  readonly mtime: number
  /** Permission bits (`0o644`…). */
  readonly mode: number
  /** The file's bytes (empty for a directory). */
  readonly data: Uint8Array
}

/** UTF-16 code-unit order, the order every store lists names in. */
const byCodeUnits = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

/**
 * Every directory and regular file under `root`, depth first, each directory
 * before its contents and names sorted: the same tree always gives the same
 * sequence. Symbolic links and special files are skipped; `root` must be a
 * directory.
 */
export const scanDirectory = (root: string): Effect.Effect<ReadonlyArray<SourceEntry>, KvBuildError> =>
  Effect.tryPromise({
    try: async () => {
      const entries: Array<SourceEntry> = []
      const visit = async (segments: ReadonlyArray<string>): Promise<void> => {
        const path = join(root, ...segments)
        const stats = await lstat(path)
        const common = { segments, mtime: Math.floor(stats.mtimeMs), mode: stats.mode & 0o7777 }
        if (stats.isFile()) {
          entries.push({ ...common, kind: "value", data: await readFile(path) })
        } else if (stats.isDirectory()) {
          entries.push({ ...common, kind: "dictionary", data: new Uint8Array(0) })
          for (const name of (await readdir(path)).sort(byCodeUnits)) await visit([...segments, name])
        }
      }
      await visit([])
      if (entries[0]?.kind !== "dictionary") throw new Error(`${root} is not a directory`)
      return entries
    },
    catch: (cause) => new KvBuildError({ step: `reading ${root}`, reason: "the directory could not be read", cause }),
  })
