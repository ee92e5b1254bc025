/**
 * The `MClock` device: a monotonic clock (MirageOS `Mirage_clock.MCLOCK`).
 */
import { Clock, Context, Effect, Layer } from "effect"

/** Monotonic time elapsed since the device was started. */
export class MClock extends Context.Service<MClock, {
  /** Nanoseconds elapsed since the clock was acquired; never goes back. */
  readonly elapsedNs: Effect.Effect<bigint>
}>()("effect-uk/MClock") {
  /**
   * Counts from Effect's `Clock` (monotonic on Node, `TestClock` in tests),
   * starting at zero when the layer is built.
   */
  static readonly layer: Layer.Layer<MClock> = Layer.effect(MClock, Effect.gen(function* () {
    const start = yield* Clock.currentTimeNanos
    return MClock.of({ elapsedNs: Effect.map(Clock.currentTimeNanos, (now) => now - start) })
  }))
}
