// tutorial/noop: a unikernel that starts and exits at once.
import { Effect } from "effect"

/** Do nothing. */
export const start = Effect.void
