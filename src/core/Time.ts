/**
 * The `Time` device: sleeping (MirageOS `Mirage_time`).
 *
 * Its one layer runs on Effect's `Clock`, so the same layer is real time in a
 * built unikernel and virtual time under `TestClock` in tests.
 */
import { Context, Duration, Effect, Layer } from "effect"

/** Sleep for a duration; never fails. */
export class Time extends Context.Service<Time, {
  /** Suspend the calling fiber for `ns` nanoseconds (MirageOS `sleep_ns`). */
  readonly sleepNs: (ns: bigint) => Effect.Effect<void>
  /** Suspend the calling fiber for an Effect duration (`"1 second"`, millis…). */
  readonly sleep: (duration: Duration.Input) => Effect.Effect<void>
}>()("effect-uk/Time") {
  /** Time on Effect's `Clock`: the host clock when run, `TestClock` in tests. */
  static readonly layer: Layer.Layer<Time> = Layer.succeed(Time, Time.of({
    sleepNs: (ns) => Effect.sleep(Duration.nanos(ns)),
    sleep: (duration) => Effect.sleep(duration),
  }))
}
