/**
 * Reading configuration keys from a command line. One parser serves
 * `effect-uk configure` and a built unikernel's argv, so both accept the same
 * forms: `--name=value`, `--name value`, `-l value`, `--flag`, `--flag=false`.
 * It is plain code with no Schema, to keep a unikernel's start-up lean.
 */
import { Data } from "effect"
import type { AnyKey } from "./Key.ts"

/** `--help` (or `-h`) was given. */
export class HelpRequested extends Data.TaggedError("HelpRequested")<{}> {}

/** An argument names no key. */
export class UnknownArgument extends Data.TaggedError("UnknownArgument")<{
  readonly argument: string
  readonly suggestion: string | undefined
}> {
  override get message() {
    return `unknown argument ${this.argument}` + (this.suggestion ? ` (did you mean --${this.suggestion}?)` : "")
  }
}

/** A key was given without its value. */
export class MissingValue extends Data.TaggedError("MissingValue")<{ readonly key: string; readonly metavar: string }> {
  override get message() {
    return `--${this.key} needs a value: write --${this.key}=${this.metavar}`
  }
}

/** A key's value does not parse. */
export class BadValue extends Data.TaggedError("BadValue")<{
  readonly key: string
  readonly value: string
  readonly expected: string
}> {
  override get message() {
    return `invalid value ${JSON.stringify(this.value)} for --${this.key}: expected ${this.expected}`
  }
}

/** A key was given at the wrong stage: a configure-only key when running, or a runtime-only key to configure. */
export class WrongStage extends Data.TaggedError("WrongStage")<{
  readonly key: string
  readonly allowedAt: "configure" | "runtime"
}> {
  override get message() {
    return this.allowedAt === "configure"
      ? `--${this.key} is fixed at configure time: run \`effect-uk configure --${this.key}=…\` and build again`
      : `--${this.key} can only be given when running the unikernel, not to configure`
  }
}

/** Every way a command line can be refused. */
export type ArgsError = HelpRequested | UnknownArgument | MissingValue | BadValue | WrongStage

/** Parsed key values by key name, and the arguments that were not keys (when allowed). */
export interface ParsedArgs {
  readonly values: ReadonlyMap<string, unknown>
  readonly rest: ReadonlyArray<string>
}

/** What the parser accepts. */
export interface ParseOptions {
  /** Keys that may be given. */
  readonly keys: ReadonlyArray<AnyKey>
  /** Keys that are recognised but refused at this stage. */
  readonly refused?: ReadonlyArray<AnyKey>
  /** Where the refused keys belong (the error says so). */
  readonly refusedBelongTo?: "configure" | "runtime"
  /** Whether an argument that is not a key is kept in `rest` instead of refused. */
  readonly allowRest?: boolean
}

/**
 * Parse `argv` against the keys. The first problem is returned as an error;
 * a later value for the same key wins, as with cmdliner.
 */
export const parse = (argv: ReadonlyArray<string>, options: ParseOptions): ParsedArgs | ArgsError => {
  const byName = new Map<string, AnyKey>()
  for (const key of options.keys) {
    byName.set(key.name, key)
    for (const alias of key.aliases) byName.set(alias, key)
  }
  const refused = new Map((options.refused ?? []).flatMap((k) => [k.name, ...k.aliases].map((n) => [n, k] as const)))
  const values = new Map<string, unknown>()
  const rest: Array<string> = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === "--help" || arg === "-h") return new HelpRequested()
    if (arg === "--" && options.allowRest) {
      rest.push(...argv.slice(i))
      break
    }
    const match = /^--([^=]+)(?:=(.*))?$/s.exec(arg) ?? /^-([A-Za-z])(.*)$/s.exec(arg)
    if (!match) {
      if (options.allowRest) {
        rest.push(arg)
        continue
      }
      return new UnknownArgument({ argument: arg, suggestion: undefined })
    }
    const name = match[1]!
    const key = byName.get(name)
    if (!key) {
      const refusedKey = refused.get(name)
      if (refusedKey) return new WrongStage({ key: refusedKey.name, allowedAt: options.refusedBelongTo ?? "configure" })
      if (options.allowRest) {
        rest.push(arg)
        continue
      }
      return new UnknownArgument({ argument: arg.split("=")[0]!, suggestion: closest(name, [...options.keys, ...(options.refused ?? [])]) })
    }
    let text: string | undefined = match[2] === "" && !arg.startsWith("--") ? undefined : match[2]
    if (text === undefined) {
      if (key.type.isFlag) text = "true"
      else if (i + 1 < argv.length) text = argv[++i]!
      else return new MissingValue({ key: key.name, metavar: key.type.metavar })
    }
    const parsed = key.type.parse(text)
    if (!parsed.ok) return new BadValue({ key: key.name, value: text, expected: parsed.expected })
    values.set(key.name, parsed.value)
  }
  return { values, rest }
}

/** True when `parse` refused the command line. */
export const isError = (result: ParsedArgs | ArgsError): result is ArgsError => "_tag" in result

/** The key name nearest to a mistyped one (edit distance at most 2), for "did you mean". */
const closest = (name: string, keys: ReadonlyArray<AnyKey>): string | undefined => {
  let best: string | undefined
  let bestDistance = 3
  for (const key of keys) {
    const d = distance(name, key.name)
    if (d < bestDistance) {
      best = key.name
      bestDistance = d
    }
  }
  return best
}

/** Levenshtein distance between two short strings. */
const distance = (a: string, b: string): number => {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    previous = current
  }
  return previous[b.length]!
}
