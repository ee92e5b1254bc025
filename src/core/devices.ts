/**
 * The basic devices every target provides, named as MirageOS names them:
 * `defaultTime`, `defaultMClock`, `defaultPClock`, `defaultRandom`,
 * `defaultConsole`.
 */
import type { Console } from "./Console.ts"
import * as Device from "./Device.ts"
import type { MClock } from "./MClock.ts"
import type { PClock } from "./PClock.ts"
import type { Random } from "./Random.ts"
import { targetModule } from "./Target.ts"
import type { Time } from "./Time.ts"

/** A device whose layer is the export `member` of the target's layer module. */
const fromTarget = <S>(name: string, service: string, member: string, what: string) =>
  Device.make<S>({
    name,
    service,
    implement: ({ target }) => ({
      description: `${target} ${what}`,
      imports: [{ from: targetModule(target), as: "Target" }],
      layer: `Target.${member}`,
    }),
  })

/** Sleeping, on the target's clock (MirageOS `default_time`). */
export const defaultTime: Device.Device<Time> = fromTarget("time", "Time", "time", "timer")

/** The monotonic clock (MirageOS `default_monotonic_clock`). */
export const defaultMClock: Device.Device<MClock> = fromTarget("mclock", "MClock", "mclock", "monotonic clock")

/** The wall clock (MirageOS `default_posix_clock`). */
export const defaultPClock: Device.Device<PClock> = fromTarget("pclock", "PClock", "pclock", "wall clock")

/** Random bytes (MirageOS `default_random`). */
export const defaultRandom: Device.Device<Random> = fromTarget("random", "Random", "random", "random source")

/** The console (MirageOS `default_console`). */
export const defaultConsole: Device.Device<Console> = fromTarget("console", "Console", "console", "console")
