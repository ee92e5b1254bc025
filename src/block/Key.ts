/**
 * Keys of a key-value store (MirageOS `Mirage_kv.Key`): paths made of
 * segments, always relative to the store's root, never escaping it.
 */
import { Data } from "effect"

/** A validated path into a store: `[]` is the root, `["a", "b"]` is `/a/b`. */
export interface Key {
  readonly segments: ReadonlyArray<string>
}

/** A path that is not a valid key. */
export class KvInvalidKey extends Data.TaggedError("KvInvalidKey")<{
  readonly path: string
  readonly reason: string
}> {
  override get message(): string {
    return `invalid key ${JSON.stringify(this.path)}: ${this.reason}; ` +
      `write keys as "a/b/c" (segments separated by single slashes, no "." or "..")`
  }
}

/** The root of a store. */
export const rootKey: Key = { segments: [] }

/** Why `segment` cannot be part of a key, or `undefined` when it can. */
export const segmentProblem = (segment: string): string | undefined => {
  if (segment === "") return "it has an empty segment"
  if (segment === "." || segment === "..") return `the segment "${segment}" would leave its directory`
  if (segment.includes("\\")) return "a segment contains a backslash"
  if (segment.includes("\0")) return "a segment contains a NUL character"
  return undefined
}

/**
 * Parse `"a/b/c"` (or `"/a/b/c"`: a single leading slash means the store's
 * root) into a key. `""` and `"/"` are the root. Empty segments (`a//b`,
 * `a/`), `.` and `..`, backslashes and NUL are refused.
 */
export const parseKey = (path: string): Key | KvInvalidKey => {
  const relative = path.startsWith("/") ? path.slice(1) : path
  if (relative === "") return rootKey
  const segments = relative.split("/")
  for (const segment of segments) {
    const reason = segmentProblem(segment)
    if (reason !== undefined) return new KvInvalidKey({ path, reason })
  }
  return { segments }
}

/** A key's canonical text: `/a/b/c`, and `/` for the root. */
export const keyToString = (key: Key): string => "/" + key.segments.join("/")
