/**
 * Building a `Flow` from what an implementation provides: `write` and
 * `stream` are derived from `writev` and `read`, the same for every `Stack`,
 * and `readInto` from `read` when the implementation has no copy of its own.
 */
import { Effect, Stream } from "effect"
import type { Flow } from "./Stack.ts"

/** The stream of chunks `read` returns, ending when it returns `undefined` (end of stream). */
export const streamOfReads = <E>(read: Effect.Effect<Uint8Array | undefined, E>): Stream.Stream<Uint8Array, E> =>
  Stream.unfold(undefined, () => Effect.map(read, (data) => (data === undefined ? undefined : [data, undefined] as const)))

/** What a `Stack` implementation provides for a flow; `makeFlow` adds the rest. */
export type FlowParts = Omit<Flow, "write" | "stream" | "readInto"> & { readonly readInto?: Flow["readInto"] }

/**
 * `readInto` over `read`: what does not fit the caller's buffer is kept and
 * comes first from either; the returned `read` serves it too.
 */
const readIntoOverRead = <E>(read: Effect.Effect<Uint8Array | undefined, E>) => {
  let rest: Uint8Array | undefined
  const next: Effect.Effect<Uint8Array | undefined, E> = Effect.suspend(() => {
    if (rest === undefined) return read
    const data = rest
    rest = undefined
    return Effect.succeed(data)
  })
  const readInto = (buffer: Uint8Array): Effect.Effect<number | undefined, E> =>
    buffer.length === 0
      ? Effect.succeed(0)
      : Effect.map(next, (data) => {
        if (data === undefined) return undefined
        const n = Math.min(data.length, buffer.length)
        buffer.set(n === data.length ? data : data.subarray(0, n))
        if (n < data.length) rest = data.subarray(n)
        return n
      })
  return { read: next, readInto }
}

/** A flow from its parts: `write(data)` is `writev([data])`, `stream` follows `read`. */
export const makeFlow = (parts: FlowParts): Flow => {
  const { read, readInto } = parts.readInto === undefined
    ? readIntoOverRead(parts.read)
    : { read: parts.read, readInto: parts.readInto }
  return {
    ...parts,
    read,
    readInto,
    write: (data) => parts.writev([data]),
    stream: streamOfReads(read),
  }
}
