/**
 * Help text for keys, in the style of cmdliner (MirageOS's `--help` and
 * `mirage help configure`):
 *
 * ```
 * UNIKERNEL PARAMETERS
 *        --hello=VAL (absent=Hello World!)
 *            How to say hello.
 * ```
 */
import type { AnyKey } from "./Key.ts"

/** A key and the default shown for it (the configured value in a built unikernel). */
export interface KeyHelp {
  readonly key: AnyKey
  readonly absent: string
}

/** The synopsis line of one key: `-l LEVEL, --logs=LEVEL` or `--hello=VAL` or `--dhcp[=BOOL]`. */
export const keyUsage = (key: AnyKey): string => {
  const metavar = key.type.metavar
  const long = key.type.isFlag ? `--${key.name}[=${metavar}]` : `--${key.name}=${metavar}`
  return [...key.aliases.map((a) => `-${a} ${metavar}`), long].join(", ")
}

/** Sections of key help, grouped by each key's section, in the order keys are given. */
export const keySections = (keys: ReadonlyArray<KeyHelp>): string => {
  const sections = new Map<string, Array<string>>()
  for (const { key, absent } of keys) {
    const lines = sections.get(key.section) ?? []
    const choices = key.type.choices ? ` (one of ${key.type.choices.join(", ")})` : ""
    lines.push(`       ${keyUsage(key)} (absent=${absent})`, `           ${key.doc}${choices}`, "")
    sections.set(key.section, lines)
  }
  return [...sections].map(([title, lines]) => `${title}\n${lines.join("\n")}`).join("\n")
}
