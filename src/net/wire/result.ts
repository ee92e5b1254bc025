/**
 * Typed rejections shared by every wire parser.
 *
 * A parser never throws on bad input: it returns either a typed view of the
 * bytes or a `Rejected` value naming the layer and the reason. Rejections are
 * preallocated frozen singletons, so dropping a flood of bad packets allocates
 * nothing.
 */

/** Why a parser refused its input. */
export interface Rejected<Layer extends string = string, Reason extends string = string> {
  readonly _tag: "Rejected"
  /** Which parser refused: `"ethernet"`, `"ipv4"`, `"tcp"`, `"ipv4-address"`… */
  readonly layer: Layer
  /** Why: `"truncated"`, `"bad-checksum"`, `"bad-version"`… */
  readonly reason: Reason
}

/** One frozen `Rejected` per reason, built once per module. */
export const rejections = <const Layer extends string, const Reason extends string>(
  layer: Layer,
  reasons: ReadonlyArray<Reason>,
): { readonly [R in Reason]: Rejected<Layer, R> } => {
  const table: Record<string, Rejected<Layer, Reason>> = {}
  for (const reason of reasons) table[reason] = Object.freeze({ _tag: "Rejected", layer, reason })
  return table as { readonly [R in Reason]: Rejected<Layer, R> }
}

/** Narrow a parse result to its rejection. */
export const isRejected = <A extends { readonly _tag: string }>(
  result: A,
): result is Extract<A, { readonly _tag: "Rejected" }> => result._tag === "Rejected"
