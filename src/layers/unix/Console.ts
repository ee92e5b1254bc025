/**
 * The unix console: the process's standard output.
 */
import { Effect, Layer } from "effect"
import { Console, ConsoleError } from "../../core/Console.ts"

/** Console lines go to standard output, in order; a closed stdout is a `ConsoleError`. */
export const layer: Layer.Layer<Console> = Layer.succeed(Console, Console.make((bytes) =>
  Effect.callback<void, ConsoleError>((resume) => {
    process.stdout.write(bytes, (error) =>
      resume(error ? Effect.fail(new ConsoleError({ reason: `stdout: ${error.message}`, cause: error })) : Effect.void))
  })))
