/**
 * Writing an hvt unikernel's launcher: `_build/<name>-hvt.mjs`, the launcher
 * program bundled with the unikernel's disks and kernel baked in, and the
 * executable `DIR/<name>-hvt` that runs it with Node.
 */
import * as esbuild from "esbuild"
import * as fs from "node:fs"
import * as path from "node:path"
import { launcherSource } from "../Build.ts"
import type { Manifest } from "../Manifest.ts"
import { buildDir } from "../Paths.ts"
import { manifestDisks, manifestNics, vmOutputs } from "./Image.ts"
import type { LauncherSpec } from "./Launcher.ts"

/** Guest memory when `--mem` is not given: the unpacked image (about 120 MB) and Node's heap fit with room. */
const defaultMemoryMiB = 512

/** Bundle the launcher program for `manifest` and write the executable that runs it. */
export const writeLauncher = (dir: string, manifest: Manifest, progress: (line: string) => void): void => {
  const spec: LauncherSpec = { name: manifest.name, kernel: "_build/vmlinuz", disks: manifestDisks(manifest), nics: manifestNics(manifest), memoryMiB: defaultMemoryMiB }
  const file = path.join(dir, vmOutputs(manifest.name, "hvt").boot)
  progress(`writing the launcher ${path.relative(process.cwd(), file)}`)
  const bundleName = `${manifest.name}-hvt.mjs`
  esbuild.buildSync({
    stdin: {
      contents: [
        `import { fileURLToPath } from "node:url"`,
        `import { launch } from ${JSON.stringify(path.join(import.meta.dirname, "Launcher.ts"))}`,
        `const dir = fileURLToPath(new URL("..", import.meta.url))`,
        `process.exit(await launch(${JSON.stringify(spec)}, dir, process.argv.slice(2)))`,
      ].join("\n"),
      resolveDir: import.meta.dirname,
      loader: "ts",
    },
    bundle: true,
    minify: true,
    platform: "node",
    format: "esm",
    target: "node20",
    outfile: path.join(buildDir(dir), bundleName),
    legalComments: "none",
    logLevel: "silent",
  })
  fs.writeFileSync(file, launcherSource(manifest, process.execPath, bundleName), { mode: 0o755 })
}
