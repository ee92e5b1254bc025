// tutorial/noop-functor: the program is `start` inside the named module `Main`
// (MirageOS's `Unikernel.Main`).
import { Effect } from "effect"

/** The unikernel's module; its `start` does nothing. */
export const Main = {
  start: Effect.void,
}
