/**
 * The bridge from the synchronous engine to waiting fibers: the engine calls
 * `wake()` (from any plain code, no Effect) when something may have changed,
 * and fibers `await` a condition, re-checking it after each wake.
 */
import { Deferred, Effect } from "effect"

/**
 * A wake-up for the fibers waiting on one connection, listener or timer.
 * Wakes are delivered in a microtask, after the engine's synchronous work:
 * resuming a fiber runs it on the spot, which would re-enter the engine in
 * the middle of a segment, and wake a reader once per segment of a batch
 * instead of once per batch.
 */
export class Signal {
  private waiters: Array<Deferred.Deferred<void>> = []
  private queued = false

  /** Wake every fiber waiting now (each re-checks its condition), soon. */
  wake(): void {
    if (this.queued || this.waiters.length === 0) return
    this.queued = true
    queueMicrotask(this.deliver)
  }

  private readonly deliver = (): void => {
    this.queued = false
    const waiters = this.waiters
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
