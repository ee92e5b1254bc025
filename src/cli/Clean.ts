/**
 * `effect-uk clean`: run the custom clean steps and remove everything
 * configure and build made, so the folder is as it is in git.
 */
import { Effect } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import type { LoadedConfig } from "./LoadConfig.ts"
import { buildDir, launcherFile } from "./Paths.ts"
import { runCleanSteps } from "./Steps.ts"

/** Clean a unikernel's directory; returns the paths removed (relative to it). */
export const clean = (loaded: LoadedConfig) =>
  Effect.gen(function* () {
    const { dir, config } = loaded
    yield* runCleanSteps(dir, config.steps)
    const removed: Array<string> = []
    for (const target of [launcherFile(dir, config.name), buildDir(dir)]) {
      if (fs.existsSync(target)) {
        fs.rmSync(target, { recursive: true, force: true })
        removed.push(path.relative(dir, target))
      }
    }
    return [...removed, ...config.steps.flatMap((s) => s.files)]
  })
