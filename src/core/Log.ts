/**
 * Logging in the MirageOS line format:
 * `2017-02-08 09:54:44 -01:00: INF [application] hello`.
 *
 * A message's source is its `src` log annotation (`Log.withSource("block")`);
 * messages without one come from `application`. Levels are chosen per source
 * with the `-l`/`--logs` key.
 */
import { Effect, Layer, Logger, LogLevel, References } from "effect"
import type { LevelSpec } from "./LogLevels.ts"
import { levelFor, levelSpecType } from "./LogLevels.ts"
import * as Key from "./Key.ts"

/** The `-l`/`--logs` key, present in every unikernel. Default `*:info`. */
export const logsKey = Key.create("logs", levelSpecType, {
  doc: "Be more or less verbose. LEVEL is a comma-separated list of [SRC:]LEVEL with LEVEL one of quiet, app, error, warning, info, debug; `*` stands for every source.",
  default: { fallback: "Info", sources: new Map() },
  aliases: ["l"],
  section: "LOGGING",
})

/** The annotation that names a log source. */
export const sourceAnnotation = "src"

/** Run an effect with its log lines attributed to `source` (`[block]`, `[net]`…). */
export const withSource = (source: string) => <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.annotateLogs(effect, sourceAnnotation, source)

const abbreviations: Record<LogLevel.LogLevel, string> = {
  All: "DBG", Trace: "DBG", Debug: "DBG", Info: "INF", Warn: "WRN", Error: "ERR", Fatal: "APP", None: "",
}

const pad = (n: number) => String(n).padStart(2, "0")

/** `YYYY-MM-DD hh:mm:ss ±hh:mm` in the time zone `offsetMinutes` east of UTC. */
export const formatTimestamp = (date: Date, offsetMinutes: number): string => {
  const local = new Date(date.getTime() + offsetMinutes * 60_000)
  const sign = offsetMinutes < 0 ? "-" : "+"
  const abs = Math.abs(offsetMinutes)
  return `${local.getUTCFullYear()}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())} ` +
    `${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())} ` +
    `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`
}

const render = (part: unknown): string => {
  if (typeof part === "string") return part
  if (part instanceof Error) return part.message
  if (typeof part === "bigint") return part.toString()
  try {
    return JSON.stringify(part, (_, v) => (typeof v === "bigint" ? v.toString() : v)) ?? String(part)
  } catch {
    return String(part)
  }
}

/** Where log lines go and how their time is shown. */
export interface LoggerOptions {
  /** Receives each formatted line, without a newline. */
  readonly write: (line: string) => void
  /** The offset from UTC in minutes, east positive; the host's local offset if absent. */
  readonly offsetMinutes?: number
}

/** An Effect logger printing MirageOS lines, filtered per source by `spec`. */
export const mirageLogger = (spec: LevelSpec, options: LoggerOptions) =>
  Logger.make<unknown, void>(({ date, logLevel, message, fiber, cause }) => {
    const annotations = fiber.getRef(References.CurrentLogAnnotations)
    const source = typeof annotations[sourceAnnotation] === "string" ? annotations[sourceAnnotation] : "application"
    if (LogLevel.isLessThan(logLevel, levelFor(spec, source))) return
    const parts = Array.isArray(message) ? message : [message]
    let text = parts.map(render).join(" ")
    if (cause.reasons.length > 0) text += (text ? " " : "") + renderCause(cause)
    const offset = options.offsetMinutes ?? -date.getTimezoneOffset()
    options.write(`${formatTimestamp(date, offset)}: ${abbreviations[logLevel]} [${source}] ${text}`)
  })

const renderCause = (cause: { readonly reasons: ReadonlyArray<unknown> }): string =>
  cause.reasons.map((r: any) => render(r.error ?? r.defect ?? r)).join("; ")

/** The lowest level any source can print: Effect drops messages below it before loggers run. */
const lowestLevel = (spec: LevelSpec): LogLevel.LogLevel =>
  [...spec.sources.values()].reduce((a, b) => (LogLevel.isLessThan(b, a) ? b : a), spec.fallback)

/** Replace Effect's loggers by the MirageOS logger for `spec`. */
export const layer = (spec: LevelSpec, options: LoggerOptions): Layer.Layer<never> =>
  Layer.mergeAll(
    Logger.layer([mirageLogger(spec, options)]),
    Layer.succeed(References.MinimumLogLevel, lowestLevel(spec)),
  )
