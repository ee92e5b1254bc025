/**
 * Where configure and build put their files, relative to a unikernel's directory.
 */
import * as path from "node:path"

/** The folder for everything generated: `DIR/_build`. */
export const buildDir = (dir: string): string => path.join(dir, "_build")

/** The generated entry point (MirageOS's `main.ml`). */
export const entryFile = (dir: string): string => path.join(buildDir(dir), "main.ts")

/** The configuration's manifest. */
export const manifestFile = (dir: string): string => path.join(buildDir(dir), "manifest.json")

/** The bundled unikernel. */
export const bundleFile = (dir: string, name: string): string => path.join(buildDir(dir), `${name}.mjs`)

/** The executable that runs the unikernel (the tutorial's `./hello`). */
export const launcherFile = (dir: string, name: string): string => path.join(dir, name)
