/**
 * Evaluating a unikernel's `config.ts`: esbuild bundles it (no ts-node) with
 * everything it imports into one temporary module, which is then imported and
 * deleted, so evaluating a configuration leaves no file behind. Local modules
 * it imports are tagged with their path so that `foreign` knows the program's
 * file. Errors are reported as `file:line:col: message`.
 */
import * as esbuild from "esbuild"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import { modulePathProperty, type UnikernelConfig } from "../core/Unikernel.ts"
import { ConfigInvalid, ConfigNotFound } from "./CliError.ts"
import { nodeRequireBanner } from "./NodeRequire.ts"
import { selfResolvePlugin } from "./SelfPackage.ts"

/** A loaded configuration and the files it was made from (for staleness checks). */
export interface LoadedConfig {
  readonly dir: string
  readonly config: UnikernelConfig
  readonly inputs: ReadonlyArray<string>
}

/**
 * Append `export const __effectUkModule = "./file.ts"` to every local ES module
 * the config imports (not to CommonJS `.cjs`/`.cts` files, which would then
 * lose their `module.exports`).
 */
const tagModules = (dir: string): esbuild.Plugin => ({
  name: "effect-uk-tag-modules",
  setup(build) {
    build.onLoad({ filter: /\.m?[jt]s$/ }, async (args) => {
      if (!args.path.startsWith(dir + path.sep) || args.path.includes(`${path.sep}node_modules${path.sep}`)) return undefined
      const relative = "./" + path.relative(dir, args.path).split(path.sep).join("/")
      if (relative === "./config.ts") return undefined
      const source = await fs.promises.readFile(args.path, "utf8")
      return { contents: `${source}\nexport const ${modulePathProperty} = ${JSON.stringify(relative)};\n`, loader: "ts" }
    })
  },
})

const formatMessage = (m: esbuild.Message): string =>
  m.location ? `${m.location.file}:${m.location.line}:${m.location.column + 1}: ${m.text}` : m.text

/** The first stack frame inside the unikernel's directory, as `file:line:col`. */
const userFrame = (error: unknown, dir: string): string | undefined => {
  const stack = error instanceof Error ? error.stack ?? "" : ""
  for (const match of stack.matchAll(/(?:\(|at )((?:file:\/\/)?\/[^\s()]+):(\d+):(\d+)\)?/g)) {
    const file = match[1]!.replace(/^file:\/\//, "")
    if (file.startsWith(dir + path.sep) && !file.includes(`${path.sep}_build${path.sep}`)) {
      return `${path.relative(process.cwd(), file)}:${match[2]}:${match[3]}`
    }
  }
  return undefined
}

const isUnikernelConfig = (value: unknown): value is UnikernelConfig =>
  typeof value === "object" && value !== null && "name" in value && "main" in value && "devices" in value

/** Bundle and evaluate `DIR/config.ts`. */
export const loadConfig = (dirArgument: string): Effect.Effect<LoadedConfig, ConfigNotFound | ConfigInvalid> =>
  Effect.gen(function* () {
    const dir = path.resolve(dirArgument)
    const configFile = path.join(dir, "config.ts")
    if (!fs.existsSync(configFile)) return yield* new ConfigNotFound({ dir: dirArgument })
    const outfile = path.join(os.tmpdir(), `effect-uk-config-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}.mjs`)
    const result = yield* Effect.tryPromise({
      try: () =>
        esbuild.build({
          entryPoints: [configFile],
          bundle: true,
          platform: "node",
          format: "esm",
          target: "node22",
          outfile,
          sourcemap: "inline",
          metafile: true,
          logLevel: "silent",
          absWorkingDir: process.cwd(),
          plugins: [selfResolvePlugin, tagModules(dir)],
          banner: nodeRequireBanner,
        }),
      catch: (error) =>
        new ConfigInvalid({
          message: (error as esbuild.BuildFailure).errors?.map(formatMessage).join("\n") ?? String(error),
        }),
    })
    const module = yield* Effect.tryPromise({
      try: () => {
        process.setSourceMapsEnabled(true)
        return (import(pathToFileURL(outfile).href) as Promise<{ default?: unknown }>)
          .finally(() => fs.rmSync(outfile, { force: true }))
      },
      catch: (error) => {
        const where = userFrame(error, dir) ?? path.relative(process.cwd(), configFile)
        return new ConfigInvalid({ message: `${where}: ${error instanceof Error ? error.message : String(error)}` })
      },
    })
    if (!isUnikernelConfig(module.default)) {
      return yield* new ConfigInvalid({
        message: `${path.relative(process.cwd(), configFile)}:1:1: config.ts must \`export default register({ … })\``,
      })
    }
    const inputs = Object.keys(result.metafile.inputs).map((input) => path.resolve(input))
    return { dir, config: module.default, inputs }
  })
