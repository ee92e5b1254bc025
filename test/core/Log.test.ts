import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { TestClock } from "effect/testing"
import * as Log from "../../src/core/Log.ts"
import { formatLevelSpec, parseLevelSpec } from "../../src/core/LogLevels.ts"

const capture = (spec: string, program: Effect.Effect<void>, offsetMinutes = -60) =>
  Effect.gen(function* () {
    const lines: Array<string> = []
    const levels = parseLevelSpec(spec)
    if (!levels) throw new Error(`bad spec ${spec}`)
    yield* program.pipe(Effect.provide(Log.layer(levels, { write: (l) => lines.push(l), offsetMinutes })))
    return lines
  })

describe("MirageOS log lines", () => {
  it.effect("prints the tutorial's format with the local offset", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(Date.UTC(2017, 1, 8, 10, 54, 44))
      const lines = yield* capture("*:info", Effect.log("hello"))
      expect(lines).toEqual(["2017-02-08 09:54:44 -01:00: INF [application] hello"])
    }))

  it.effect("filters per source: net:debug,*:warning", () =>
    Effect.gen(function* () {
      const net = Log.withSource("net")
      const lines = yield* capture(
        "net:debug,*:warning",
        Effect.gen(function* () {
          yield* Effect.logDebug("app debug")
          yield* Effect.log("app info")
          yield* Effect.logWarning("app warning")
          yield* net(Effect.logDebug("net debug"))
          yield* Log.withSource("block")(Effect.logError("block error"))
        }),
        0,
      )
      expect(lines.map((l) => l.slice(28))).toEqual([
        "WRN [application] app warning",
        "DBG [net] net debug",
        "ERR [block] block error",
      ])
    }))

  it.effect("shows everything with *:debug and nothing with quiet", () =>
    Effect.gen(function* () {
      const program = Effect.gen(function* () {
        yield* Effect.logDebug("d")
        yield* Effect.logError("e")
      })
      expect((yield* capture("*:debug", program)).length).toBe(2)
      expect((yield* capture("quiet", program)).length).toBe(0)
    }))

  it("formats positive and half-hour offsets", () => {
    const date = new Date(Date.UTC(2020, 0, 1, 0, 0, 0))
    expect(Log.formatTimestamp(date, 330)).toBe("2020-01-01 05:30:00 +05:30")
    expect(Log.formatTimestamp(date, 0)).toBe("2020-01-01 00:00:00 +00:00")
  })

  it("parses and prints level specs", () => {
    expect(parseLevelSpec("debug")).toEqual({ fallback: "Debug", sources: new Map() })
    expect(parseLevelSpec("net:loud")).toBeUndefined()
    expect(parseLevelSpec("a:debug,")).toBeUndefined()
    const spec = parseLevelSpec("net:debug,*:warning")!
    expect(parseLevelSpec(formatLevelSpec(spec))).toEqual(spec)
  })
})
