/**
 * Key types: how a configuration key's value is read from and written to a
 * command-line string. They are plain functions with no Schema behind them, so
 * a built unikernel can parse its runtime keys without loading Schema; the
 * configure side derives a Schema from any key type (`KeySchema.ts`) and can
 * make a key type from any Schema.
 */

/** The outcome of parsing one key value. */
export type Parsed<A> =
  | { readonly ok: true; readonly value: A }
  | { readonly ok: false; readonly expected: string }

/** How the values of a key are parsed from and printed to argv strings. */
export interface KeyType<A> {
  /** The placeholder shown in help, as cmdliner does: `VAL`, `INT`, `BOOL`, `KV_RO`… */
  readonly metavar: string
  /** The expected form, used in error messages ("an integer", "one of crunch, direct"). */
  readonly expected: string
  /** True for booleans: `--flag` alone means true and no value is taken from the next argument. */
  readonly isFlag: boolean
  /** The allowed values, when the type is an enumeration. */
  readonly choices?: ReadonlyArray<string>
  /** Parse a value given on a command line. */
  readonly parse: (text: string) => Parsed<A>
  /** Print a value so that `parse` reads it back. */
  readonly format: (value: A) => string
  /** This type as an expression over the `KeyTypes` namespace of `effect-uk/runtime`, for generated code. */
  readonly code: string
}

const ok = <A>(value: A): Parsed<A> => ({ ok: true, value })

/** Any string. */
export const string: KeyType<string> = {
  metavar: "VAL",
  expected: "a string",
  isFlag: false,
  parse: ok,
  format: (s) => s,
  code: "string",
}

/** A decimal integer (safe range). */
export const int: KeyType<number> = {
  metavar: "INT",
  expected: "an integer",
  isFlag: false,
  parse: (text) => /^[+-]?\d+$/.test(text) && Number.isSafeInteger(Number(text))
    ? ok(Number(text))
    : { ok: false, expected: "an integer" },
  format: String,
  code: "int",
}

/** A TCP/UDP port number, 0 to 65535. */
export const port: KeyType<number> = {
  metavar: "PORT",
  expected: "a port number from 0 to 65535",
  isFlag: false,
  parse: (text) => {
    const n = Number(text)
    return /^\d+$/.test(text) && n <= 65535 ? ok(n) : { ok: false, expected: "a port number from 0 to 65535" }
  },
  format: String,
  code: "port",
}

/** A boolean: `true`/`false` (also `yes`/`no`, `1`/`0`); `--flag` alone is true. */
export const bool: KeyType<boolean> = {
  metavar: "BOOL",
  expected: "true or false",
  isFlag: true,
  parse: (text) => {
    const t = text.toLowerCase()
    if (t === "true" || t === "yes" || t === "1") return ok(true)
    if (t === "false" || t === "no" || t === "0") return ok(false)
    return { ok: false, expected: "true or false" }
  },
  format: (b) => (b ? "true" : "false"),
  code: "bool",
}

/** One of a fixed set of names; `metavar` is shown in help (`KV_RO`). */
export const choice = <const C extends string>(metavar: string, choices: ReadonlyArray<C>): KeyType<C> => {
  const expected = `one of ${choices.join(", ")}`
  return {
    metavar,
    expected,
    isFlag: false,
    choices,
    parse: (text) => (choices as ReadonlyArray<string>).includes(text) ? ok(text as C) : { ok: false, expected },
    format: (c) => c,
    code: `choice(${JSON.stringify(metavar)}, ${JSON.stringify(choices)})`,
  }
}
