/**
 * Running the host tools an image build needs (apt-get, dpkg-deb, strip,
 * ldd) with their failures as `CommandFailed`, naming the fix.
 */
import { spawnSync } from "node:child_process"
import { CommandFailed } from "../CliError.ts"

/** Run `command args` to completion and return its standard output; throws `CommandFailed`. */
export const runTool = (command: string, args: ReadonlyArray<string>, fix: string, cwd?: string): string => {
  const result = spawnSync(command, args, { encoding: "utf8", ...(cwd === undefined ? {} : { cwd }) })
  const line = [command, ...args].join(" ")
  if (result.error) {
    throw new CommandFailed({ command: line, reason: `${result.error.message}; ${fix}` })
  }
  if (result.status !== 0) {
    const output = (result.stderr.trim() || result.stdout.trim()).split("\n").slice(-5).join("\n")
    throw new CommandFailed({ command: line, reason: `exit status ${result.status}: ${output}\n${fix}` })
  }
  return result.stdout
}

/** True when `command` can be run (it is on PATH). */
export const hasTool = (command: string): boolean => !spawnSync(command, ["--version"], { stdio: "ignore" }).error
