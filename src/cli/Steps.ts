/**
 * Running a configuration's custom build and clean steps.
 */
import { Effect } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import type { Step } from "../core/Unikernel.ts"
import { StepFailed } from "./CliError.ts"

const inDir = <A, E>(dir: string, effect: Effect.Effect<A, E>): Effect.Effect<A, E> =>
  Effect.acquireUseRelease(
    Effect.sync(() => {
      const previous = process.cwd()
      process.chdir(dir)
      return previous
    }),
    () => effect,
    (previous) => Effect.sync(() => process.chdir(previous)),
  )

/** Run each step's build, in `dir`, unless it has no sources and all its files exist already. */
export const runBuildSteps = (dir: string, steps: ReadonlyArray<Step>, progress: (line: string) => void) =>
  Effect.forEach(steps, (step) =>
    step.sources === undefined && step.files.length > 0 && step.files.every((f) => fs.existsSync(path.join(dir, f)))
      ? Effect.void
      : Effect.sync(() => progress(step.description)).pipe(
        Effect.andThen(inDir(dir, step.build({ dir }))),
        Effect.mapError((cause) => new StepFailed({ step: step.description, cause })),
      ), { discard: true })

/** Run each step's own clean-up, then remove the files it made. */
export const runCleanSteps = (dir: string, steps: ReadonlyArray<Step>) =>
  Effect.forEach(steps, (step) =>
    (step.clean ? inDir(dir, step.clean({ dir })) : Effect.void).pipe(
      Effect.andThen(Effect.sync(() => {
        for (const file of step.files) fs.rmSync(path.join(dir, file), { recursive: true, force: true })
      })),
      Effect.mapError((cause) => new StepFailed({ step: `clean: ${step.description}`, cause })),
    ), { discard: true })

/** Every file under the steps' sources (absolute), for staleness checks. */
export const stepSourceFiles = (dir: string, steps: ReadonlyArray<Step>): Array<string> =>
  steps.flatMap((step) => step.sources ?? []).flatMap((source) => {
    const full = path.join(dir, source)
    if (!fs.existsSync(full)) return []
    if (!fs.statSync(full).isDirectory()) return [full]
    return (fs.readdirSync(full, { recursive: true }) as Array<string>).map((f) => path.join(full, f))
  })
