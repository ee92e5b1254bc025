/**
 * The `effect-uk` command (the `mirage` tool): configure, depend, build, run,
 * clean, help, query and describe a unikernel.
 */
import { NodeServices } from "@effect/platform-node"
import { Effect, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { spawnSync } from "node:child_process"
import * as path from "node:path"
import { keySections } from "../core/Help.ts"
import { targets, type Target } from "../core/Target.ts"
import { findDir, splitArgv, type SplitArgv } from "./Argv.ts"
import { build, bundleInputsFile } from "./Build.ts"
import { clean } from "./Clean.ts"
import type { CliFailure } from "./CliError.ts"
import { CommandFailed } from "./CliError.ts"
import { computeConfiguration, configureKeys } from "./Configuration.ts"
import { configure } from "./Configure.ts"
import { depend } from "./Depend.ts"
import { describeDot, describeText } from "./Describe.ts"
import { loadConfig as load, type LoadedConfig } from "./LoadConfig.ts"
import { encodeManifest, readManifest } from "./Manifest.ts"
import { bundleFile, manifestFile, targetOutputs } from "./Paths.ts"
import { isStale, readInputs } from "./Stale.ts"

const progress = (line: string) => process.stderr.write(`effect-uk: ${line}\n`)
const print = (text: string) => Effect.sync(() => process.stdout.write(text))

const dirArgument = Argument.String("dir").pipe(
  Argument.withDescription("the unikernel's directory, holding config.ts"),
  Argument.withDefault("."),
)
const targetFlag = Flag.Literals("target", targets).pipe(
  Flag.withAlias("t"),
  Flag.withDescription("where the unikernel runs"),
  Flag.withDefault<Target>("unix"),
)

/** Report a failure of ours as `effect-uk: message` and exit 1. */
const reported = <A, R>(effect: Effect.Effect<A, CliFailure, R>): Effect.Effect<void, never, R> =>
  effect.pipe(
    Effect.asVoid,
    Effect.catch((error) =>
      Effect.sync(() => {
        process.stderr.write(`effect-uk: ${error.message}\n`)
        process.exitCode = 1
      })
    ),
  )

/**
 * The whole command tree; `split` carries the key arguments and the
 * unikernel's arguments, `preloaded` the configuration already loaded to find
 * the keys (loaded again only for another directory).
 */
const makeCommand = (split: SplitArgv, preloaded: LoadedConfig | undefined) => {
  const loadConfig = (dir: string) =>
    preloaded !== undefined && preloaded.dir === path.resolve(dir) ? Effect.succeed(preloaded) : load(dir)

  const configureCommand = Command.make("configure", { target: targetFlag, dir: dirArgument }, ({ target, dir }) =>
    reported(Effect.gen(function* () {
      const loaded = yield* loadConfig(dir)
      const manifest = yield* configure(loaded, target, split.keys)
      progress(`configured ${manifest.name} for ${target} in ${path.relative(process.cwd(), manifestFile(loaded.dir))}`)
    }))).pipe(Command.withDescription("Evaluate config.ts and write the entry point and manifest into DIR/_build"))

  const dependCommand = Command.make("depend", { dir: dirArgument }, ({ dir }) =>
    reported(Effect.gen(function* () {
      const manifest = yield* readManifest(path.resolve(dir))
      yield* depend(dir, manifest.packages, progress)
    }))).pipe(Command.withDescription("Install the configuration's extra npm packages"))

  const buildCommand = Command.make("build", { dir: dirArgument }, ({ dir }) =>
    reported(Effect.gen(function* () {
      const loaded = yield* loadConfig(dir)
      const manifest = yield* build(loaded, progress)
      const outputs = Object.values(targetOutputs(manifest.name, manifest.target))
      progress(`built ${outputs.map((output) => path.relative(process.cwd(), path.join(loaded.dir, output))).join(" and ")}`)
    }))).pipe(Command.withDescription("Type-check and bundle the unikernel into the executable DIR/<name>"))

  const runCommand = Command.make("run", { dir: dirArgument }, ({ dir }) =>
    reported(Effect.gen(function* () {
      const loaded = yield* loadConfig(dir)
      const previous = Option.getOrUndefined(yield* readManifest(loaded.dir).pipe(Effect.option))
      const manifest = previous !== undefined && !isStale(manifestFile(loaded.dir), loaded.inputs)
        ? previous
        : yield* configure(loaded, previous?.target ?? "unix", previous?.arguments ?? [])
      const { name, target } = manifest
      const bundle = bundleFile(loaded.dir, name)
      const outputs = targetOutputs(name, target)
      const built = path.join(loaded.dir, outputs.main)
      if (isStale(bundle, [manifestFile(loaded.dir), ...readInputs(bundleInputsFile(loaded.dir))]) || isStale(built, [bundle])) {
        yield* build(loaded, progress)
      }
      if (target === "xen") {
        return yield* new CommandFailed({
          command: name,
          reason: `a xen image boots on a Xen host: xl create -c ${path.join(dir, outputs.boot ?? "")}`,
        })
      }
      const launch = outputs.boot === undefined
        ? { command: built, args: split.passthrough }
        : { command: path.join(loaded.dir, outputs.boot), args: [built, ...split.passthrough] }
      const result = spawnSync(launch.command, launch.args, { stdio: "inherit" })
      if (result.error) return yield* new CommandFailed({ command: name, reason: result.error.message })
      process.exitCode = result.status ?? 1
    }))).pipe(Command.withDescription("Configure if needed, build if stale, and run the unikernel (arguments after --)"))

  const cleanCommand = Command.make("clean", { dir: dirArgument }, ({ dir }) =>
    reported(Effect.gen(function* () {
      const loaded = yield* loadConfig(dir)
      const removed = yield* clean(loaded)
      progress(`cleaned ${removed.join(" ") || "(nothing to remove)"}`)
    }))).pipe(Command.withDescription("Run the clean steps and remove everything configure and build made"))

  const helpCommand = Command.make("help", {
    topic: Argument.Literals("topic", ["configure"]),
    dir: dirArgument,
  }, ({ dir }) =>
    reported(Effect.gen(function* () {
      const loaded = yield* loadConfig(dir)
      const keys = configureKeys(loaded).map((key) => ({ key, absent: key.type.format(key.default) }))
      yield* print([
        "NAME\n       effect-uk-configure - configure a unikernel\n",
        "SYNOPSIS\n       effect-uk configure [-t unix|hvt|xen] [DIR] [--KEY=VALUE]…\n",
        "OPTIONS\n       -t TARGET, --target=TARGET (absent=unix)\n           Where the unikernel runs: unix, hvt or xen.\n",
        keySections(keys),
      ].join("\n"))
    }))).pipe(Command.withDescription("Show the keys of a unikernel's configuration (help configure DIR)"))

  const queryCommand = Command.make("query", {
    info: Argument.Literals("info", ["name", "packages", "files", "manifest"]),
    target: targetFlag,
    dir: dirArgument,
  }, ({ info, target, dir }) =>
    reported(Effect.gen(function* () {
      const loaded = yield* loadConfig(dir)
      const { manifest } = yield* computeConfiguration(loaded, target, split.keys)
      const answers = {
        name: manifest.name + "\n",
        packages: manifest.packages.map((p) => p + "\n").join(""),
        files: manifest.files.map((f) => f + "\n").join(""),
        manifest: encodeManifest(manifest),
      }
      yield* print(answers[info])
    }))).pipe(Command.withDescription("Print the configuration's name, packages, files or manifest"))

  const describeCommand = Command.make("describe", {
    dot: Flag.Boolean("dot").pipe(Flag.withDescription("print the device graph as Graphviz dot"), Flag.withDefault(false)),
    target: targetFlag,
    dir: dirArgument,
  }, ({ dot, target, dir }) =>
    reported(Effect.gen(function* () {
      const loaded = yield* loadConfig(dir)
      const { manifest } = yield* computeConfiguration(loaded, target, split.keys)
      yield* print(dot ? describeDot(manifest) : describeText(manifest))
    }))).pipe(Command.withDescription("Describe the configuration and its device graph"))

  return Command.make("effect-uk").pipe(
    Command.withDescription("Configure, build and run unikernels written as Effect programs"),
    Command.withSubcommands([
      configureCommand,
      dependCommand,
      buildCommand,
      runCommand,
      cleanCommand,
      helpCommand,
      queryCommand,
      describeCommand,
    ]),
  )
}

/** Run the command on `argv` (without the node and script paths). */
export const main = (argv: ReadonlyArray<string>): Effect.Effect<void> =>
  Effect.gen(function* () {
    const dir = findDir(argv)
    const loaded = Option.getOrUndefined(yield* load(dir).pipe(Effect.option))
    const split = splitArgv(argv, dir, loaded ? configureKeys(loaded) : [])
    yield* Command.runWith(makeCommand(split, loaded), { version: "0.1.0" })(split.tool)
  }).pipe(
    Effect.catch((error) => Effect.sync(() => {
      process.exitCode = 1
      void error
    })),
    Effect.provide(NodeServices.layer),
  )
