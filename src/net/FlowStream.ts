/**
 * A flow's received bytes as an Effect `Stream`, from its `read`: shared by
 * every `Stack` implementation.
 */
import { Effect, Option, Stream } from "effect"

/** The stream of chunks `read` returns, ending when it returns `undefined` (end of stream). */
export const streamOfReads = <E>(read: Effect.Effect<Uint8Array | undefined, E>): Stream.Stream<Uint8Array, E> =>
  Stream.paginate(undefined, () =>
    Effect.map(read, (chunk) =>
      chunk === undefined
        ? [[], Option.none()] as const
        : [[chunk], Option.some(undefined)] as const))
