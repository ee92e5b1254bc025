/**
 * Where configure and build put their files, relative to a unikernel's directory.
 */
import * as path from "node:path"
import type { Target } from "../core/Target.ts"

/** The folder for everything generated: `DIR/_build`. */
export const buildDir = (dir: string): string => path.join(dir, "_build")

/** The generated entry point (MirageOS's `main.ml`). */
export const entryFile = (dir: string): string => path.join(buildDir(dir), "main.ts")

/** The configuration's manifest. */
export const manifestFile = (dir: string): string => path.join(buildDir(dir), "manifest.json")

/** The bundled unikernel. */
export const bundleFile = (dir: string, name: string): string => path.join(buildDir(dir), `${name}.mjs`)


/**
 * What `build` makes beside `config.ts` for a target (relative names): the
 * executable on unix; the image and the launcher (`<name>-hvt`) or the Xen
 * configuration (`<name>.xl`) for a VM.
 */
export const targetOutputs = (name: string, target: Target): { readonly main: string; readonly boot?: string } =>
  target === "unix" ? { main: name } : { main: `${name}.${target}`, boot: target === "hvt" ? `${name}-hvt` : `${name}.xl` }
