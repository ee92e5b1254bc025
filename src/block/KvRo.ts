/**
 * The `KvRo` device: a read-only key-value store (MirageOS `Mirage_kv.RO`),
 * a tree of values (byte strings) and dictionaries addressed by `Key`s.
 */
import { Context, Data, Effect } from "effect"
import { createHash } from "node:crypto"
import type { BlockError } from "./Block.ts"
import { keyToString, parseKey } from "./Key.ts"
import type { Key, KvInvalidKey } from "./Key.ts"

/** What a key names: a value (a file) or a dictionary (a directory). */
export type Kind = "value" | "dictionary"

/** One name in a dictionary's listing. */
export interface KvEntry {
  readonly name: string
  readonly kind: Kind
}

/** A key, as a validated `Key` or as text parsed with `parseKey`. */
export type KeyInput = Key | string

/** Nothing is bound to the key. */
export class KvNotFound extends Data.TaggedError("KvNotFound")<{ readonly key: string }> {
  override get message(): string {
    return `${this.key} is not in the store: check the key against list() of its dictionary`
  }
}

/** The key names a value where a dictionary was needed (e.g. `list` on a file). */
export class KvDictionaryExpected extends Data.TaggedError("KvDictionaryExpected")<{ readonly key: string }> {
  override get message(): string {
    return `${this.key} is a value, not a dictionary: use get() to read it`
  }
}

/** The key names a dictionary where a value was needed (e.g. `get` on a directory). */
export class KvValueExpected extends Data.TaggedError("KvValueExpected")<{ readonly key: string }> {
  override get message(): string {
    return `${this.key} is a dictionary, not a value: use list() to see what it holds`
  }
}

/** `getPartial` was given a negative or non-integer offset or length. */
export class KvInvalidRange extends Data.TaggedError("KvInvalidRange")<{
  readonly key: string
  readonly offset: number
  readonly length: number
}> {
  override get message(): string {
    return `cannot read ${this.length} bytes at offset ${this.offset} of ${this.key}: ` +
      `offset and length must be non-negative integers`
  }
}

/** The store's image (FAT file system, tar archive…) is damaged or hostile. */
export class KvCorrupt extends Data.TaggedError("KvCorrupt")<{
  readonly format: string
  readonly reason: string
}> {
  override get message(): string {
    return `the ${this.format} image is corrupt: ${this.reason}; rebuild the image (or check it with fsck/tar -t)`
  }
}

/** Every way a key-value operation can fail, including the device's errors underneath. */
export type KvRoError =
  | KvNotFound
  | KvDictionaryExpected
  | KvValueExpected
  | KvInvalidKey
  | KvInvalidRange
  | KvCorrupt
  | BlockError

/** A read-only store of values and dictionaries. */
export class KvRo extends Context.Service<KvRo, {
  /** What the key names, or `undefined` when it is absent. */
  readonly exists: (key: KeyInput) => Effect.Effect<Kind | undefined, KvRoError>
  /** The whole value. */
  readonly get: (key: KeyInput) => Effect.Effect<Uint8Array, KvRoError>
  /**
   * `length` bytes of the value from `offset`; shorter (possibly empty) when the
   * value ends first (MirageOS semantics).
   */
  readonly getPartial: (key: KeyInput, offset: number, length: number) => Effect.Effect<Uint8Array, KvRoError>
  /** The names in a dictionary with their kinds, sorted by name (UTF-16 code units). */
  readonly list: (key: KeyInput) => Effect.Effect<ReadonlyArray<KvEntry>, KvRoError>
  /** When the value or dictionary last changed, in milliseconds since the Unix epoch (UTC). */
  readonly lastModified: (key: KeyInput) => Effect.Effect<number, KvRoError>
  /** SHA-256 (hex) of a value, or of a dictionary's listing (see `digestListing`). */
  readonly digest: (key: KeyInput) => Effect.Effect<string, KvRoError>
  /** A value's length in bytes. */
  readonly size: (key: KeyInput) => Effect.Effect<number, KvRoError>
}>()("effect-uk/KvRo") {}

/** Validate a key given as text; a `Key` passes through. */
export const toKey = (input: KeyInput): Effect.Effect<Key, KvInvalidKey> => {
  if (typeof input !== "string") return Effect.succeed(input)
  const parsed = parseKey(input)
  return "segments" in parsed ? Effect.succeed(parsed) : Effect.fail(parsed)
}

/** SHA-256 of bytes, in lowercase hex. */
export const digestValue = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex")

/**
 * The digest of a dictionary: SHA-256 of its sorted listing, one
 * `<kind> <name>\n` line per entry. Every implementation computes it the same
 * way, so a directory has the same digest in every store.
 */
export const digestListing = (entries: ReadonlyArray<KvEntry>): string =>
  createHash("sha256").update(entries.map((entry) => `${entry.kind} ${entry.name}\n`).join("")).digest("hex")

/** Sort a listing by name, the order every implementation returns. */
export const sortEntries = (entries: Array<KvEntry>): Array<KvEntry> =>
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))

/**
 * Check a `getPartial` range and clamp it to a value of `size` bytes: the
 * `[start, end)` byte span to return.
 */
export const clampRange = (
  key: Key,
  size: number,
  offset: number,
  length: number,
): Effect.Effect<{ readonly start: number; readonly end: number }, KvInvalidRange> =>
  Number.isSafeInteger(offset) && Number.isSafeInteger(length) && offset >= 0 && length >= 0
    ? Effect.succeed({ start: Math.min(offset, size), end: Math.min(offset + length, size) })
    : Effect.fail(new KvInvalidRange({ key: keyToString(key), offset, length }))
