/**
 * Building a `Flow` from what an implementation provides: `write` and
 * `stream` are derived from `writev` and `read`, the same for every `Stack`.
 */
import { Effect, Stream } from "effect"
import type { Flow } from "./Stack.ts"

/** The stream of chunks `read` returns, ending when it returns `undefined` (end of stream). */
export const streamOfReads = <E>(read: Effect.Effect<Uint8Array | undefined, E>): Stream.Stream<Uint8Array, E> =>
  Stream.unfold(undefined, () => Effect.map(read, (data) => (data === undefined ? undefined : [data, undefined] as const)))

/** What a `Stack` implementation provides for a flow; `makeFlow` adds the rest. */
export type FlowParts = Omit<Flow, "write" | "stream">

/** A flow from its parts: `write(data)` is `writev([data])`, `stream` follows `read`. */
export const makeFlow = (parts: FlowParts): Flow => ({
  ...parts,
  write: (data) => parts.writev([data]),
  stream: streamOfReads(parts.read),
})
