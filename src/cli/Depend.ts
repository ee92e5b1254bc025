/**
 * `effect-uk depend` (MirageOS's `make depend`): install the configuration's
 * extra npm packages into the project that holds the unikernel, without
 * changing its package.json.
 */
import { Effect } from "effect"
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { CommandFailed } from "./CliError.ts"

/** The nearest directory at or above `dir` with a package.json (the npm project). */
export const projectRoot = (dir: string): string => {
  for (let current = path.resolve(dir); ; current = path.dirname(current)) {
    if (fs.existsSync(path.join(current, "package.json"))) return current
    if (path.dirname(current) === current) return path.resolve(dir)
  }
}

/** Install `packages` with npm in the project of `dir`; nothing to do when the list is empty. */
export const depend = (dir: string, packages: ReadonlyArray<string>, progress: (line: string) => void) =>
  Effect.gen(function* () {
    if (packages.length === 0) {
      progress("no extra packages to install")
      return
    }
    const root = projectRoot(dir)
    progress(`npm install --no-save ${packages.join(" ")} (in ${root})`)
    const npm = process.env["npm_execpath"] ? [process.execPath, process.env["npm_execpath"]] : ["npm"]
    const result = spawnSync(npm[0]!, [...npm.slice(1), "install", "--no-save", ...packages], {
      cwd: root,
      stdio: ["ignore", "inherit", "inherit"],
    })
    if (result.error) return yield* new CommandFailed({ command: "npm install", reason: result.error.message })
    if (result.status !== 0) {
      return yield* new CommandFailed({ command: "npm install", reason: `exited with code ${result.status}` })
    }
  })
