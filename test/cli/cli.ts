/**
 * Running the `effect-uk` command and built unikernels from tests, as a user
 * would from a shell.
 */
import { spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"

/** The repository root. */
export const root = path.resolve(import.meta.dirname, "../..")

/** What a finished process printed and its exit code. */
export interface Ran {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** Run a command to completion. */
export const run = (command: string, args: ReadonlyArray<string>, env: NodeJS.ProcessEnv = process.env): Ran => {
  const result = spawnSync(command, args, { cwd: root, encoding: "utf8", env, timeout: 120_000 })
  if (result.error) throw result.error
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr }
}

/** Run `effect-uk ARGS` with the Node running the tests. */
export const cli = (...args: Array<string>): Ran => run(process.execPath, [path.join(root, "bin/effect-uk.js"), ...args])

/** Log lines without their time-stamp: `INF [application] hello`. */
export const logLines = (text: string): Array<string> =>
  text.split("\n").filter((l) => l !== "").map((l) => l.replace(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d\d:\d\d: /, ""))

/** Every file below `dir`, relative, sorted. */
export const listFiles = (dir: string): Array<string> =>
  (fs.readdirSync(dir, { recursive: true }) as Array<string>).sort()

/**
 * A fresh unikernel project under `test/.tmp` (inside the package, so that
 * `effect-uk` imports resolve to this repository), made of the given files.
 */
export const tempUnikernel = (name: string, files: Record<string, string>): string => {
  const dir = path.join(root, "test/.tmp", `${name}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`)
  fs.mkdirSync(dir, { recursive: true })
  for (const [file, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true })
    fs.writeFileSync(path.join(dir, file), content)
  }
  return dir
}

/**
 * Start a long-running command (a built unikernel), wait for its first line
 * on stderr, run `talk`, then stop it with SIGTERM; returns its stderr and
 * exit code.
 */
export const runWhile = async (command: string, args: ReadonlyArray<string>, talk: () => void) => {
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] })
  let log = ""
  child.stderr.on("data", (data) => (log += data))
  const started = Date.now()
  while (log === "" && Date.now() - started < 10_000) await new Promise((r) => setTimeout(r, 50))
  talk()
  await new Promise((r) => setTimeout(r, 500))
  child.kill("SIGTERM")
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve))
  return { log, code }
}
