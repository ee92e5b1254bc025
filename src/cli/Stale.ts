/**
 * Whether `effect-uk run` must configure or build again: a generated file is
 * stale when any file it was made from is newer.
 */
import * as fs from "node:fs"

const mtime = (file: string): number => {
  try {
    return fs.statSync(file).mtimeMs
  } catch {
    return Number.NaN
  }
}

/** True when `output` is missing or older than any of `inputs` (a missing input counts as newer). */
export const isStale = (output: string, inputs: ReadonlyArray<string>): boolean => {
  const made = mtime(output)
  if (Number.isNaN(made)) return true
  return inputs.some((input) => {
    const changed = mtime(input)
    return Number.isNaN(changed) || changed > made
  })
}

/** The list of inputs stored beside a generated file, or none. */
export const readInputs = (file: string): ReadonlyArray<string> => {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as ReadonlyArray<string>
  } catch {
    return []
  }
}
