/**
 * The unix target: device layers for a unikernel running as a Node process.
 * Generated entry points import the layers one by one (`Target.time`…);
 * `UnixLive` bundles them all for programs that embed effect-uk as a library.
 */
import { Layer } from "effect"
import { MClock } from "../core/MClock.ts"
import { PClock } from "../core/PClock.ts"
import { Random } from "../core/Random.ts"
import { Time } from "../core/Time.ts"
import { layer as consoleLayer } from "./unix/Console.ts"

/** Sleeping on the host's clock. */
export const time = Time.layer
/** The host's monotonic clock. */
export const mclock = MClock.layer
/** The host's wall clock and time zone. */
export const pclock = PClock.layer
/** Random bytes from the host's CSPRNG. */
export const random = Random.layer
/** The console on standard output. */
export const console = consoleLayer

/** Every basic device of the unix target. */
export const UnixLive = /* @__PURE__ */ Layer.mergeAll(time, mclock, pclock, random, console)
