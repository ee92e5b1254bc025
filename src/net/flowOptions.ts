/**
 * The options of one TCP connection (`TcpFlowOptions`), checked the same
 * way for both stacks: keepalive fields left out take their defaults, and a
 * value out of range is refused with an error naming it and what to give.
 */
import { Effect } from "effect"
import type { Keepalive, TcpFlowOptions } from "./Stack.ts"
import { StackInvalidArgument } from "./Stack.ts"
import type { KeepaliveConfig } from "./tcp/config.ts"
import { defaultKeepalive } from "./tcp/config.ts"

/** Connection options checked and completed: `undefined` where the stack's own setting stays. */
export interface ResolvedFlowOptions {
  readonly noDelay: boolean | undefined
  readonly keepalive: KeepaliveConfig | undefined
}

const invalid = (reason: string) => Effect.fail(new StackInvalidArgument({ reason }))

/** `keepalive` with its defaults filled in, or the error naming a value out of range. */
export const resolveKeepalive = (keepalive: Keepalive): Effect.Effect<KeepaliveConfig, StackInvalidArgument> => {
  const resolved: KeepaliveConfig = {
    idleMs: keepalive.idleMs ?? defaultKeepalive.idleMs,
    intervalMs: keepalive.intervalMs ?? defaultKeepalive.intervalMs,
    probes: keepalive.probes ?? defaultKeepalive.probes,
  }
  for (const field of ["idleMs", "intervalMs"] as const) {
    const value = resolved[field]
    if (typeof value !== "number" || !(value > 0) || !Number.isFinite(value)) {
      return invalid(`keepalive.${field} is ${String(value)}: give a positive number of milliseconds`)
    }
  }
  if (!Number.isInteger(resolved.probes) || resolved.probes < 1) {
    return invalid(`keepalive.probes is ${String(resolved.probes)}: give a whole number of probes, at least 1`)
  }
  return Effect.succeed(resolved)
}

/** `options` checked, keepalive completed with its defaults. */
export const resolveFlowOptions = (options: TcpFlowOptions = {}): Effect.Effect<ResolvedFlowOptions, StackInvalidArgument> => {
  const { noDelay, keepalive } = options
  if (noDelay !== undefined && typeof noDelay !== "boolean") {
    return invalid(`noDelay is ${String(noDelay)}: give true (Nagle's algorithm off) or false`)
  }
  if (keepalive === undefined) return Effect.succeed({ noDelay, keepalive: undefined })
  return Effect.map(resolveKeepalive(keepalive), (resolved) => ({ noDelay, keepalive: resolved }))
}
