/**
 * An in-memory index of a store (dictionaries, and values with a
 * format-specific location) and the `KvRo` service that serves it. The crunch,
 * FAT and archive stores index their data once, then answer every call from
 * the index and read values through a format-specific `readValue`.
 */
import { Effect } from "effect"
import { keyToString, segmentProblem } from "./Key.ts"
import type { Key } from "./Key.ts"
import {
  clampRange,
  digestListing,
  digestValue,
  KvCorrupt,
  KvDictionaryExpected,
  KvNotFound,
  KvRo,
  KvValueExpected,
  sortEntries,
  toKey,
} from "./KvRo.ts"
import type { KeyInput, KvEntry, KvRoError } from "./KvRo.ts"

/** A value in the index: its size, time and where its bytes are. */
export interface TreeValue<L> {
  readonly kind: "value"
  readonly size: number
  readonly mtime: number
  readonly location: L
}

/** A dictionary in the index (its time can be set when its own entry is met after its children). */
export interface TreeDictionary<L> {
  readonly kind: "dictionary"
  mtime: number
  readonly children: Map<string, TreeNode<L>>
}

/** A node of the index. */
export type TreeNode<L> = TreeValue<L> | TreeDictionary<L>

/** An empty dictionary. */
export const makeDictionary = <L>(mtime: number): TreeDictionary<L> => ({ kind: "dictionary", mtime, children: new Map() })

/**
 * Put `node` at `segments` under `root`, creating missing dictionaries on the
 * way (with time 0). A dictionary put where one exists only updates its time;
 * a value replaces what was there (later tar members win). Returns why the
 * path is refused, or `undefined`.
 */
export const insertNode = <L>(root: TreeDictionary<L>, segments: ReadonlyArray<string>, node: TreeNode<L>): string | undefined => {
  const path = segments.join("/")
  for (const segment of segments) {
    const problem = segmentProblem(segment)
    if (problem !== undefined) return `the path ${JSON.stringify(path)} is refused: ${problem}`
  }
  const name = segments[segments.length - 1]
  if (name === undefined) {
    if (node.kind !== "dictionary") return "the root must be a directory"
    root.mtime = node.mtime
    return undefined
  }
  let parent = root
  for (const segment of segments.slice(0, -1)) {
    const existing = parent.children.get(segment)
    if (existing?.kind === "value") return `${path} is inside ${segment}, which is a file`
    const next = existing ?? makeDictionary<L>(0)
    parent.children.set(segment, next)
    parent = next
  }
  const existing = parent.children.get(name)
  if (existing?.kind === "dictionary") {
    if (node.kind === "value") return `${path} is both a directory and a file`
    existing.mtime = node.mtime
  } else {
    parent.children.set(name, node)
  }
  return undefined
}

/** The node at `key`, or `undefined`. */
export const lookup = <L>(root: TreeDictionary<L>, key: Key): TreeNode<L> | undefined => {
  let node: TreeNode<L> = root
  for (const segment of key.segments) {
    if (node.kind !== "dictionary") return undefined
    const child: TreeNode<L> | undefined = node.children.get(segment)
    if (child === undefined) return undefined
    node = child
  }
  return node
}

/** A dictionary's listing, sorted by name. */
const listing = <L>(dictionary: TreeDictionary<L>): Array<KvEntry> =>
  sortEntries([...dictionary.children].map(([name, child]) => ({ name, kind: child.kind })))

/** Reads `[start, end)` of a value (never empty); `end - start` bytes are returned. */
export type ReadValue<L> = (value: TreeValue<L>, start: number, end: number) => Effect.Effect<Uint8Array, KvRoError>

/**
 * The `KvRo` service over an index: lookups, listings, sizes and times come
 * from the index; value bytes from `readValue`.
 */
export const makeTreeKvRo = <L>(root: TreeDictionary<L>, readRange: ReadValue<L>): KvRo["Service"] => {
  const readValue: ReadValue<L> = (value, start, end) => (start === end ? Effect.succeed(new Uint8Array(0)) : readRange(value, start, end))
  const resolve = (input: KeyInput) =>
    Effect.flatMap(toKey(input), (key) => {
      const node = lookup(root, key)
      return node === undefined
        ? Effect.fail(new KvNotFound({ key: keyToString(key) }))
        : Effect.succeed({ key, node })
    })
  const resolveValue = (input: KeyInput) =>
    Effect.flatMap(resolve(input), ({ key, node }) =>
      node.kind === "value" ? Effect.succeed({ key, node }) : Effect.fail(new KvValueExpected({ key: keyToString(key) })))
  const resolveDictionary = (input: KeyInput) =>
    Effect.flatMap(resolve(input), ({ key, node }) =>
      node.kind === "dictionary" ? Effect.succeed(node) : Effect.fail(new KvDictionaryExpected({ key: keyToString(key) })))
  const get = (input: KeyInput) => Effect.flatMap(resolveValue(input), ({ node }) => readValue(node, 0, node.size))
  return KvRo.of({
    exists: (input) => Effect.map(toKey(input), (key) => lookup(root, key)?.kind),
    get,
    getPartial: (input, offset, length) =>
      Effect.flatMap(resolveValue(input), ({ key, node }) =>
        Effect.flatMap(clampRange(key, node.size, offset, length), ({ start, end }) => readValue(node, start, end))),
    list: (input) => Effect.map(resolveDictionary(input), listing),
    lastModified: (input) => Effect.map(resolve(input), ({ node }) => node.mtime),
    digest: (input) =>
      Effect.flatMap(resolve(input), ({ node }) =>
        node.kind === "dictionary" ? Effect.succeed(digestListing(listing(node))) : Effect.map(readValue(node, 0, node.size), digestValue)),
    size: (input) => Effect.map(resolveValue(input), ({ node }) => node.size),
  })
}

/** Fail with `KvCorrupt` when an index step reported a problem. */
export const corruptIf = (format: string, problem: string | undefined): Effect.Effect<void, KvCorrupt> =>
  problem === undefined ? Effect.void : Effect.fail(new KvCorrupt({ format, reason: problem }))
