/**
 * The `PClock` device: the wall clock (MirageOS `Mirage_clock.PCLOCK`).
 */
import { Clock, Context, Effect, Layer } from "effect"

/** The POSIX wall clock and the local time-zone offset. */
export class PClock extends Context.Service<PClock, {
  /** Milliseconds since the Unix epoch. */
  readonly nowMs: Effect.Effect<number>
  /** Local offset from UTC in seconds at the current time (east positive), if known. */
  readonly tzOffsetSeconds: Effect.Effect<number | undefined>
}>()("effect-uk/PClock") {
  /** Wall clock from Effect's `Clock` and the host's time zone (`TZ`). */
  static readonly layer: Layer.Layer<PClock> = Layer.succeed(PClock, PClock.of({
    nowMs: Clock.currentTimeMillis,
    tzOffsetSeconds: Effect.map(Clock.currentTimeMillis, (ms) => -new Date(ms).getTimezoneOffset() * 60),
  }))

  /** Wall clock from Effect's `Clock` with a fixed offset: deterministic tests. */
  static readonly layerFixedOffset = (offsetSeconds: number | undefined): Layer.Layer<PClock> =>
    Layer.succeed(PClock, PClock.of({ nowMs: Clock.currentTimeMillis, tzOffsetSeconds: Effect.succeed(offsetSeconds) }))
}
