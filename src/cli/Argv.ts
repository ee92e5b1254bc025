/**
 * Splitting the `effect-uk` command line before effect/cli sees it. The
 * unikernel's keys (`--hello=Hola!`) are only known once its `config.ts` is
 * loaded, as with functoria; so the directory is found first, the keys are
 * taken out, and effect/cli parses what is left. Arguments after `--` go to
 * the unikernel (`effect-uk run DIR -- --hello=Hi`).
 */
import * as fs from "node:fs"
import * as path from "node:path"
import type { AnyKey } from "../core/Key.ts"

/** The tool's own flags that take a value, and those that do not. */
const valueFlags = new Set(["-t", "--target", "--log-level"])
const toolFlags = new Set(["-h", "--help", "--version", "-v", "--dot", "--wizard", "--completions"])

/** The parts of the command line. */
export interface SplitArgv {
  /** What effect/cli parses: the subcommand, the tool's flags and positionals. */
  readonly tool: ReadonlyArray<string>
  /** Key arguments for the unikernel's configuration. */
  readonly keys: ReadonlyArray<string>
  /** Arguments after `--`, for the unikernel itself. */
  readonly passthrough: ReadonlyArray<string>
}

/** Whether `dir` holds a unikernel configuration. */
const isUnikernelDir = (dir: string): boolean => fs.existsSync(path.join(dir, "config.ts"))

/** The unikernel directory named among the positionals, or `.`. */
export const findDir = (argv: ReadonlyArray<string>): string => {
  const [, ...rest] = argv
  const end = rest.indexOf("--")
  for (let i = 0; i < (end < 0 ? rest.length : end); i++) {
    const arg = rest[i]!
    if (valueFlags.has(arg)) i++
    else if (!arg.startsWith("-") && isUnikernelDir(arg)) return arg
  }
  return "."
}

/**
 * Take the key arguments out of the command line. `keys` are the keys known
 * so far (booleans take no separate value); an unknown `--name value` takes
 * the next argument unless it is a flag or the directory.
 */
export const splitArgv = (argv: ReadonlyArray<string>, dir: string, keys: ReadonlyArray<AnyKey>): SplitArgv => {
  const end = argv.indexOf("--")
  const own = end < 0 ? argv : argv.slice(0, end)
  const passthrough = end < 0 ? [] : argv.slice(end + 1)
  const flagKeys = new Set(keys.filter((k) => k.type.isFlag).flatMap((k) => [k.name, ...k.aliases]))
  const tool: Array<string> = []
  const keyArgs: Array<string> = []
  for (let i = 0; i < own.length; i++) {
    const arg = own[i]!
    const flagName = /^--?([^=]+)/.exec(arg)?.[1]
    if (i === 0 || flagName === undefined || toolFlags.has(arg) || valueFlags.has(arg.split("=")[0]!)) {
      tool.push(arg)
      if (valueFlags.has(arg) && i + 1 < own.length) tool.push(own[++i]!)
      continue
    }
    keyArgs.push(arg)
    const next = own[i + 1]
    const hasValue = arg.includes("=") || /^-[A-Za-z]./.test(arg)
    if (!hasValue && !flagKeys.has(flagName) && next !== undefined && !next.startsWith("-") && next !== dir) {
      keyArgs.push(next)
      i++
    }
  }
  return { tool, keys: keyArgs, passthrough }
}
