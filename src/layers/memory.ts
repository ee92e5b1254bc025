/**
 * In-memory devices for tests: virtual time (driven by `TestClock` under
 * `it.effect`), a fixed UTC wall clock, seeded random bytes and a console that
 * records its lines.
 */
import { Layer } from "effect"
import { Console } from "../core/Console.ts"
import { MClock } from "../core/MClock.ts"
import { PClock } from "../core/PClock.ts"
import { Random } from "../core/Random.ts"
import { Time } from "../core/Time.ts"

/** Every basic device, deterministic: console lines are appended to `consoleLines`. */
export const MemoryLive = (options: { readonly consoleLines: Array<string>; readonly seed?: number }) =>
  Layer.mergeAll(
    Time.layer,
    MClock.layer,
    PClock.layerFixedOffset(0),
    Random.layerSeeded(options.seed ?? 1),
    Console.layerMemory(options.consoleLines),
  )
