/**
 * `effect-uk clean`: run the custom clean steps and remove everything
 * configure and build made, so the folder is as it is in git.
 */
import { Effect, Option } from "effect"
import { computeConfiguration } from "./Configuration.ts"
import { readManifest } from "./Manifest.ts"
import * as fs from "node:fs"
import * as path from "node:path"
import type { LoadedConfig } from "./LoadConfig.ts"
import { targets } from "../core/Target.ts"
import { buildDir, targetOutputs } from "./Paths.ts"
import { runCleanSteps } from "./Steps.ts"

/**
 * Clean a unikernel's directory; returns the paths removed (relative to it).
 * The steps are those of the configuration that was made, or config.ts's own
 * when it was never configured.
 */
export const clean = (loaded: LoadedConfig) =>
  Effect.gen(function* () {
    const { dir, config } = loaded
    const manifest = yield* readManifest(dir).pipe(Effect.option)
    const steps = Option.isSome(manifest)
      ? (yield* computeConfiguration(loaded, manifest.value.target, manifest.value.arguments).pipe(
        Effect.map((c) => c.steps),
        Effect.orElseSucceed(() => config.steps),
      ))
      : config.steps
    yield* runCleanSteps(dir, steps)
    const removed: Array<string> = []
    const outputs = targets.flatMap((target) => Object.values(targetOutputs(config.name, target)))
    for (const target of [...outputs.map((output) => path.join(dir, output)), buildDir(dir)]) {
      if (fs.existsSync(target)) {
        fs.rmSync(target, { recursive: true, force: true })
        removed.push(path.relative(dir, target))
      }
    }
    return [...removed, ...steps.flatMap((s) => s.files)]
  })
