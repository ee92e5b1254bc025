/**
 * The build stage of the VM targets, after bundling: the image, then the
 * hvt launcher (`DIR/<name>-hvt`) or the Xen configuration (`DIR/<name>.xl`).
 */
import { Effect } from "effect"
import { CommandFailed, StepFailed } from "../CliError.ts"
import type { Manifest } from "../Manifest.ts"
import { makeImage, type VmTarget } from "./Image.ts"
import { writeLauncher } from "./LauncherScript.ts"
import { writeXlConfig } from "./XlConfig.ts"

/** Make the image of a configured and bundled unikernel, and the way to boot it. */
export const buildVm = (dir: string, manifest: Manifest, target: VmTarget, progress: (line: string) => void) =>
  Effect.try({
    try: () => {
      makeImage(dir, manifest, target, progress)
      if (target === "xen") writeXlConfig(dir, manifest, progress)
      else writeLauncher(dir, manifest, progress)
    },
    catch: (cause) => cause instanceof CommandFailed ? cause : new StepFailed({ step: `make the ${target} image`, cause }),
  })
