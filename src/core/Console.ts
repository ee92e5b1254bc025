/**
 * The `Console` device: a text console (MirageOS `Mirage_console`, the 2015
 * tutorial's `C.log c "hello"`).
 */
import { Context, Data, Effect, Layer } from "effect"

/** Writing to the console failed (closed pipe, full device…). */
export class ConsoleError extends Data.TaggedError("ConsoleError")<{
  readonly reason: string
  readonly cause?: unknown
}> {}

/** A console that takes lines and raw bytes. */
export class Console extends Context.Service<Console, {
  /** Write one line (a newline is added). */
  readonly log: (line: string) => Effect.Effect<void, ConsoleError>
  /** Write raw bytes as they are. */
  readonly write: (bytes: Uint8Array) => Effect.Effect<void, ConsoleError>
}>()("effect-uk/Console") {
  /** A console over a byte sink: the building block of every console layer. */
  static readonly make = (sink: (bytes: Uint8Array) => Effect.Effect<void, ConsoleError>): Console["Service"] => {
    const encoder = new TextEncoder()
    return Console.of({ log: (line) => sink(encoder.encode(line + "\n")), write: sink })
  }

  /**
   * A console that appends each line written to `lines` (raw writes are decoded
   * as UTF-8 and split on newlines): for tests.
   */
  static readonly layerMemory = (lines: Array<string>): Layer.Layer<Console> => Layer.sync(Console, () => {
    const decoder = new TextDecoder()
    let partial = ""
    return Console.make((bytes) => Effect.sync(() => {
      const parts = (partial + decoder.decode(bytes, { stream: true })).split("\n")
      partial = parts.pop() ?? ""
      lines.push(...parts)
    }))
  })
}
