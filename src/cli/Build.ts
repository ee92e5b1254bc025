/**
 * `effect-uk build`: run the build steps (the devices' and config.ts's), then
 * type-check the generated entry point, bundle it with esbuild into one
 * minified file and write the executable `DIR/<name>`.
 */
import * as esbuild from "esbuild"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { BundleFailed } from "./CliError.ts"
import type { LoadedConfig } from "./LoadConfig.ts"
import { readManifest, type Manifest } from "./Manifest.ts"
import { buildDir, bundleFile, entryFile, targetOutputs } from "./Paths.ts"
import { nodeRequireBanner } from "./NodeRequire.ts"
import { selfResolvePlugin } from "./SelfPackage.ts"
import { runBuildSteps, stepSourceFiles } from "./Steps.ts"
import { computeConfiguration } from "./Configuration.ts"
import { typeCheck } from "./TypeCheck.ts"
import { buildVm } from "./image/VmBuild.ts"

/** The list of files the bundle was made from, beside it, for staleness checks. */
export const bundleInputsFile = (dir: string): string => path.join(buildDir(dir), "inputs.json")

/**
 * The launcher: a shell script that runs the bundle with the Node that built
 * it, or with `node` on PATH if that one is gone (the bundle targets Node 20).
 */
export const launcherSource = (manifest: Manifest, node: string, bundleName = `${manifest.name}.mjs`): string =>
  [
    "#!/bin/sh",
    `# The unikernel "${manifest.name}" (target ${manifest.target}), made by \`effect-uk build\`.`,
    `node=${shellQuote(node)}`,
    "[ -x \"$node\" ] || node=node",
    "here=$(dirname \"$0\")",
    "# V8's code cache (Node >= 22.1) makes later starts skip compiling the bundle.",
    "NODE_COMPILE_CACHE=\"${NODE_COMPILE_CACHE:-$here/_build/compile-cache}\" \\",
    `  exec "$node" "$here/_build/${bundleName}" "$@"`,
    "",
  ].join("\n")

const shellQuote = (text: string): string => `'${text.replace(/'/g, `'\\''`)}'`

/** Bundle the entry point into `_build/<name>.mjs`. */
const bundle = (dir: string, manifest: Manifest) =>
  Effect.tryPromise({
    try: () =>
      esbuild.build({
        entryPoints: [entryFile(dir)],
        bundle: true,
        minify: true,
        platform: "node",
        format: "esm",
        target: "node20",
        outfile: bundleFile(dir, manifest.name),
        metafile: true,
        legalComments: "none",
        logLevel: "silent",
        plugins: [selfResolvePlugin],
        banner: nodeRequireBanner,
      }),
    catch: (error) =>
      new BundleFailed({
        diagnostics: (error as esbuild.BuildFailure).errors?.map((m) =>
          m.location ? `${m.location.file}:${m.location.line}:${m.location.column + 1}: ${m.text}` : m.text
        ).join("\n") ?? String(error),
      }),
  })

/** Build a configured unikernel; returns the manifest it was built from. */
export const build = (loaded: LoadedConfig, progress: (line: string) => void) =>
  Effect.gen(function* () {
    const { dir } = loaded
    const manifest = yield* readManifest(dir)
    const { steps } = yield* computeConfiguration(loaded, manifest.target, manifest.arguments)
    yield* runBuildSteps(dir, steps, progress)
    progress(`type-checking ${path.relative(process.cwd(), entryFile(dir))}`)
    yield* typeCheck([entryFile(dir), path.join(dir, "config.ts")])
    progress(`bundling ${manifest.name}`)
    const result = yield* bundle(dir, manifest)
    const inputs = [
      ...Object.keys(result.metafile.inputs).map((input) => path.resolve(input)),
      ...stepSourceFiles(dir, steps),
    ]
    fs.writeFileSync(bundleInputsFile(dir), JSON.stringify(inputs, null, 2) + "\n")
    if (manifest.target === "unix") {
      const launcher = path.join(dir, targetOutputs(manifest.name, "unix").main)
      fs.writeFileSync(launcher, launcherSource(manifest, process.execPath), { mode: 0o755 })
    } else yield* buildVm(dir, manifest, manifest.target, progress)
    return manifest
  })
