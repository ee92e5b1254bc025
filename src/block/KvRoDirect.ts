/**
 * A `KvRo` store that reads a host directory at run time (MirageOS
 * `direct_kv_ro`, unix target only).
 */
import { Effect, Layer } from "effect"
import type { Stats } from "node:fs"
import { open, readdir, readFile, realpath, stat } from "node:fs/promises"
import { join, sep } from "node:path"
import { BlockIoFailure } from "./Block.ts"
import { keyToString, KvInvalidKey } from "./Key.ts"
import type { Key } from "./Key.ts"
import {
  clampRange,
  digestListing,
  digestValue,
  KvDictionaryExpected,
  KvNotFound,
  KvRo,
  KvValueExpected,
  sortEntries,
  toKey,
} from "./KvRo.ts"
import type { KeyInput, Kind, KvEntry, KvRoError } from "./KvRo.ts"

/** What a host file is as a store entry; `undefined` for sockets, devices and the like. */
const kindOf = (stats: Pick<Stats, "isFile" | "isDirectory">): Kind | undefined => (stats.isFile() ? "value" : stats.isDirectory() ? "dictionary" : undefined)

/** A host error as a store error: a missing path is `KvNotFound`, anything else an I/O failure. */
const hostFailure = (key: Key, operation: string) => (cause: unknown): KvRoError => {
  const code = (cause as { readonly code?: unknown } | null)?.code
  return code === "ENOENT" || code === "ENOTDIR" || code === "ELOOP"
    ? new KvNotFound({ key: keyToString(key) })
    : new BlockIoFailure({ operation: `${operation} ${keyToString(key)}`, cause })
}

/** Read up to `length` bytes of `path` from `position` (fewer if the file ends first). */
const readRange = async (path: string, position: number, length: number): Promise<Uint8Array> => {
  const handle = await open(path, "r")
  try {
    const buffer = new Uint8Array(length)
    let done = 0
    while (done < length) {
      const { bytesRead } = await handle.read(buffer, done, length - done, position + done)
      if (bytesRead === 0) break
      done += bytesRead
    }
    return buffer.subarray(0, done)
  } finally {
    await handle.close()
  }
}

/**
 * Serve the host directory `dir`, read at every call (changes show up at
 * once). Keys are resolved with `realpath`: a key that leads out of `dir`
 * through a symbolic link fails with `KvInvalidKey`, and such links are left
 * out of listings. Times are the host's modification times (milliseconds).
 */
export const layerDirect = (dir: string): Layer.Layer<KvRo, BlockIoFailure> =>
  Layer.effect(KvRo, Effect.gen(function* () {
    const root = yield* Effect.tryPromise({
      try: () => realpath(dir),
      catch: (cause) => new BlockIoFailure({ operation: `open the directory ${dir}`, cause }),
    })
    const rootPrefix = root.endsWith(sep) ? root : root + sep
    const inside = (real: string) => real === root || real.startsWith(rootPrefix)
    /** The real path and stats of what `key` names inside the root, or `undefined` when it leads outside. */
    const resolveHost = async (hostPath: string) => {
      const real = await realpath(hostPath)
      return inside(real) ? { real, stats: await stat(real) } : undefined
    }
    const locate = (input: KeyInput) =>
      Effect.flatMap(toKey(input), (key) =>
        Effect.flatMap(
          Effect.tryPromise({ try: () => resolveHost(join(root, ...key.segments)), catch: hostFailure(key, "resolve") }),
          (found): Effect.Effect<{ key: Key; real: string; stats: Stats; kind: Kind }, KvRoError> => {
            if (found === undefined) {
              return Effect.fail(new KvInvalidKey({ path: keyToString(key), reason: "it leads out of the store through a symbolic link" }))
            }
            const kind = kindOf(found.stats)
            return kind === undefined ? Effect.fail(new KvNotFound({ key: keyToString(key) })) : Effect.succeed({ key, ...found, kind })
          },
        ))
    const locateValue = (input: KeyInput) =>
      Effect.flatMap(locate(input), (found) =>
        found.kind === "value" ? Effect.succeed(found) : Effect.fail(new KvValueExpected({ key: keyToString(found.key) })))
    const list = (input: KeyInput) =>
      Effect.flatMap(locate(input), ({ key, real, kind }) =>
        kind === "value"
          ? Effect.fail(new KvDictionaryExpected({ key: keyToString(key) }))
          : Effect.tryPromise({
            try: async () => {
              const entries: Array<KvEntry> = []
              for (const dirent of await readdir(real, { withFileTypes: true })) {
                const entryKind = dirent.isSymbolicLink()
                  ? await resolveHost(join(real, dirent.name)).then((target) => target && kindOf(target.stats), () => undefined)
                  : kindOf(dirent)
                if (entryKind !== undefined) entries.push({ name: dirent.name, kind: entryKind })
              }
              return sortEntries(entries)
            },
            catch: hostFailure(key, "list"),
          }))
    const readValue = (real: string, key: Key) =>
      Effect.tryPromise({
        try: async () => {
          const buffer = await readFile(real)
          return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.length)
        },
        catch: hostFailure(key, "read"),
      })
    return KvRo.of({
      exists: (input) =>
        locate(input).pipe(
          Effect.map(({ kind }): Kind | undefined => kind),
          Effect.catchTag("KvNotFound", () => Effect.succeed(undefined)),
        ),
      get: (input) => Effect.flatMap(locateValue(input), ({ real, key }) => readValue(real, key)),
      getPartial: (input, offset, length) =>
        Effect.flatMap(locateValue(input), ({ key, real, stats }) =>
          Effect.flatMap(clampRange(key, stats.size, offset, length), ({ start, end }) =>
            Effect.tryPromise({ try: () => readRange(real, start, end - start), catch: hostFailure(key, "read") }))),
      list,
      lastModified: (input) => Effect.map(locate(input), ({ stats }) => Math.floor(stats.mtimeMs)),
      digest: (input) =>
        Effect.flatMap(locate(input), ({ key, real, kind }) =>
          kind === "value" ? Effect.map(readValue(real, key), digestValue) : Effect.map(list(key), digestListing)),
      size: (input) => Effect.map(locateValue(input), ({ stats }) => stats.size),
    })
  }))
