/**
 * Starting a built unikernel: read its runtime keys from argv, install the
 * MirageOS logger, provide the keys and devices, run the program, and exit
 * with MirageOS's codes: 0 done, 1 failed, 63 after `--help`, 64 for a bad
 * command line, 130/143 when interrupted by SIGINT/SIGTERM.
 *
 * This module is on the unikernel's start-up path: it uses no Schema and no
 * CLI library.
 */
import { Cause, Effect, Exit, Layer } from "effect"
import * as Args from "./Args.ts"
import { keySections } from "./Help.ts"
import * as Key from "./Key.ts"
import * as Log from "./Log.ts"
import type { LevelSpec } from "./LogLevels.ts"

/** MirageOS's exit codes. */
export const ExitCode = { ok: 0, failure: 1, help: 63, badArguments: 64 } as const

/** What the generated entry point passes to `boot`. */
export interface BootSpec<P, E, LE> {
  /** The unikernel's name, used in help and errors. */
  readonly name: string
  /** The target, shown in help. */
  readonly target: string
  /** The devices: a layer providing the services `P`. */
  readonly devices: Layer.Layer<P, LE>
  /** The main program; it may require only what the devices provide. */
  readonly program: Effect.Effect<void, E, NoInfer<P>>
  /** Every key, with its configured value as default; runtime keys are read from argv. */
  readonly keys: ReadonlyArray<Key.AnyKey>
}

/** Where boot writes: real streams in a unikernel, buffers in tests. */
export interface BootIO {
  readonly argv: ReadonlyArray<string>
  readonly stdout: (text: string) => void
  readonly stderr: (text: string) => void
  /** Called once with the exit code when the unikernel is done. */
  readonly exit: (code: number) => void
}

/** The process's own argv and streams. */
export const processIO = (): BootIO => ({
  argv: process.argv.slice(2),
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  exit: (code) => {
    process.exitCode = code
    process.exit(code)
  },
})

/** The help text of a built unikernel (`./hello --help`). */
export const helpText = (name: string, target: string, keys: ReadonlyArray<Key.AnyKey>): string =>
  [
    `NAME\n       ${name} - an effect-uk unikernel (target ${target})\n`,
    `SYNOPSIS\n       ${name} [OPTION]…\n`,
    keySections(keys.filter(Key.isRuntime).map((key) => ({ key, absent: key.type.format(key.default) }))),
    `OPTIONS\n       -h, --help\n           Show this help and exit.\n`,
    `EXIT STATUS\n       0 on success, 1 when the unikernel fails, 63 after --help, 64 on a bad command line.\n`,
  ].join("\n")

/**
 * Parse argv and build the program to run, or say why not. Separate from
 * `boot` so that tests can run a unikernel without a process.
 */
export const prepare = <P, E, LE>(
  spec: BootSpec<P, E, LE>,
  argv: ReadonlyArray<string>,
): { readonly program: Effect.Effect<void, E | LE>; readonly logs: LevelSpec } | Args.ArgsError => {
  const parsed = Args.parse(argv, {
    keys: spec.keys.filter(Key.isRuntime),
    refused: spec.keys.filter((k) => !Key.isRuntime(k)),
    refusedBelongTo: "configure",
  })
  if (Args.isError(parsed)) return parsed
  // Keys are provided around the devices too: layers read them (`--ipv4`, `--interface`…).
  let program: Effect.Effect<void, E | LE> = Effect.provide(spec.program, spec.devices)
  let logs: LevelSpec = Log.logsKey.default
  for (const key of spec.keys) {
    const value = parsed.values.has(key.name) ? parsed.values.get(key.name) : key.default
    if (key.name === Log.logsKey.name) logs = value as LevelSpec
    program = Effect.provideService(program, key, value)
  }
  return { program, logs }
}

/** Run a unikernel as the process (or with the given IO) and exit with its code. */
export const boot = <P, E, LE>(spec: BootSpec<P, E, LE>, io: BootIO = processIO()): void => {
  const prepared = prepare(spec, io.argv)
  if ("_tag" in prepared) {
    if (prepared._tag === "HelpRequested") {
      io.stdout(helpText(spec.name, spec.target, spec.keys))
      return io.exit(ExitCode.help)
    }
    io.stderr(`${spec.name}: ${prepared.message}\nUsage: ${spec.name} [OPTION]…\nTry '${spec.name} --help' for more information.\n`)
    return io.exit(ExitCode.badArguments)
  }
  const logger = Log.layer(prepared.logs, { write: (line) => io.stderr(line + "\n") })
  const main = prepared.program.pipe(
    Effect.tapCause((cause) => Cause.hasInterruptsOnly(cause) ? Effect.void : Effect.logError("unikernel failed:", cause)),
    Effect.provide(logger),
  )
  const fiber = Effect.runFork(main)
  let signalCode: number = ExitCode.failure
  const onSignal = (code: number) => () => {
    signalCode = code
    fiber.interruptUnsafe()
  }
  const onInt = onSignal(130)
  const onTerm = onSignal(143)
  process.once("SIGINT", onInt)
  process.once("SIGTERM", onTerm)
  fiber.addObserver((exit) => {
    process.off("SIGINT", onInt)
    process.off("SIGTERM", onTerm)
    io.exit(Exit.isSuccess(exit) ? ExitCode.ok : Cause.hasInterruptsOnly(exit.cause) ? signalCode : ExitCode.failure)
  })
}
