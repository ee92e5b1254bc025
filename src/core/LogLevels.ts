/**
 * Log level selection, MirageOS style: `-l "*:debug"`, `-l "net:debug,*:warning"`.
 * `*` sets the default for every source; a bare level means `*:level`.
 */
import type { LogLevel } from "effect"
import type { KeyType } from "./KeyType.ts"

/** The level for each log source and the default for the rest. */
export interface LevelSpec {
  readonly fallback: LogLevel.LogLevel
  readonly sources: ReadonlyMap<string, LogLevel.LogLevel>
}

/** MirageOS (Logs) level names and the Effect levels they select. */
const levelNames: Record<string, LogLevel.LogLevel> = {
  quiet: "None",
  app: "Fatal",
  error: "Error",
  warning: "Warn",
  warn: "Warn",
  info: "Info",
  debug: "Debug",
}

const expected = "a list of [SRC:]LEVEL with LEVEL one of quiet, app, error, warning, info, debug (e.g. *:info,net:debug)"

/** Parse a level specification; the first bad item fails the whole spec. */
export const parseLevelSpec = (text: string): LevelSpec | undefined => {
  let fallback: LogLevel.LogLevel = "Info"
  const sources = new Map<string, LogLevel.LogLevel>()
  for (const item of text.split(",").map((s) => s.trim())) {
    if (item === "") return undefined
    const colon = item.lastIndexOf(":")
    const source = colon < 0 ? "*" : item.slice(0, colon)
    const level = levelNames[(colon < 0 ? item : item.slice(colon + 1)).toLowerCase()]
    if (level === undefined || source === "") return undefined
    if (source === "*") fallback = level
    else sources.set(source, level)
  }
  return { fallback, sources }
}

/** Print a specification back in the form `parseLevelSpec` reads. */
export const formatLevelSpec = (spec: LevelSpec): string => {
  const name = (level: LogLevel.LogLevel) => Object.keys(levelNames).find((n) => levelNames[n] === level) ?? "info"
  return [...spec.sources].map(([s, l]) => `${s}:${name(l)}`).concat(`*:${name(spec.fallback)}`).join(",")
}

/** The key type of `-l`/`--logs`. */
export const levelSpecType: KeyType<LevelSpec> = {
  metavar: "LEVEL",
  expected,
  isFlag: false,
  parse: (text) => {
    const spec = parseLevelSpec(text)
    return spec ? { ok: true, value: spec } : { ok: false, expected }
  },
  format: formatLevelSpec,
  code: "levelSpec",
}

/** The level a message from `source` must reach to be printed. */
export const levelFor = (spec: LevelSpec, source: string): LogLevel.LogLevel =>
  spec.sources.get(source) ?? spec.fallback
