/**
 * The bridge from the synchronous engine to waiting fibers: the engine calls
 * `wake()` (from any plain code, no Effect) when something may have changed,
 * and fibers `await` a condition, re-checking it after each wake.
 */
import { Deferred, Effect } from "effect"

/** A wake-up for the fibers waiting on one connection, listener or timer. */
export class Signal {
  private waiters: Array<Deferred.Deferred<void>> = []

  /** Wake every fiber waiting now (each re-checks its condition). */
  wake(): void {
    const waiters = this.waiters
    if (waiters.length === 0) return
    this.waiters = []
    for (const waiter of waiters) Deferred.doneUnsafe(waiter, Effect.void)
  }

  /** Wait for the next `wake()`. */
  readonly wait: Effect.Effect<void> = Effect.suspend(() => {
    const waiter = Deferred.makeUnsafe<void>()
    this.waiters.push(waiter)
    return Deferred.await(waiter)
  })

  /** Run `check` until it gives an outcome (not `undefined`), waiting for a wake between attempts. */
  until<A, E>(check: () => Effect.Effect<A, E> | undefined): Effect.Effect<A, E> {
    const attempt: Effect.Effect<A, E> = Effect.suspend(() => check() ?? Effect.flatMap(this.wait, () => attempt))
    return attempt
  }
}
