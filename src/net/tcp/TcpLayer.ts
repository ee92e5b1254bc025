/**
 * The Effect shell of the TCP engine: `Stack.tcp` (`listen`, `connect`)
 * over an IPv4 layer given as an `IpAccess`. The engine stays synchronous;
 * the shell registers it as protocol 6, runs one timer fiber per stack that
 * sleeps (on Effect's `Clock`, so `TestClock` drives it) until the engine's
 * earliest deadline or until woken by an earlier one, and wraps connections
 * into `Flow`s whose fibers the engine wakes through `Signal`s.
 */
import { Clock, Effect, Scope } from "effect"
import { resolveFlowOptions } from "../flowOptions.ts"
import type { Endpoint, Flow, Stack, StackError, TcpFlowOptions } from "../Stack.ts"
import { StackInvalidArgument, StackPortUnavailable, StackUnreachable } from "../Stack.ts"
import type { IpSender, TransportProtocol } from "../direct/Transport.ts"
import { cryptoRandom } from "../engine/cryptoRandom.ts"
import { parseIpv4 } from "../wire/addr.ts"
import type { TcpConfig } from "./config.ts"
import type { Connection } from "./connection.ts"
import { TcpEngine } from "./engine.ts"
import { applyFlowOptions, connectionError, connectionFlow } from "./flow.ts"
import { Signal } from "./signal.ts"

/** What the shell needs from the IPv4 layer (the direct stack's `IpLayer` service has this shape). */
export interface IpAccess {
  /** Plug a transport protocol in until the scope closes. */
  readonly register: (protocol: TransportProtocol) => Effect.Effect<void, never, Scope.Scope>
  readonly sender: IpSender
}

/** How to build the TCP shell. */
export interface TcpOptions {
  readonly config?: Partial<TcpConfig>
  /** 32-bit random numbers for the ISN and timestamp keys and ephemeral ports; `crypto.getRandomValues` by default. */
  readonly random?: () => number
}

/** `Stack.tcp`, plus the engine underneath (for statistics and tests). */
export interface Tcp {
  readonly listen: Stack["Service"]["tcp"]["listen"]
  readonly connect: Stack["Service"]["tcp"]["connect"]
  readonly engine: TcpEngine
}

/** The timer fiber: run the engine's timers at their deadlines, forever. */
const timerLoop = (engine: TcpEngine, clock: Clock.Clock, wake: Signal): Effect.Effect<never> =>
  Effect.forever(Effect.suspend(() => {
    const deadline = engine.nextDeadline()
    const now = clock.currentTimeMillisUnsafe()
    if (deadline !== undefined && deadline <= now) return Effect.sync(() => engine.onTimers(now))
    // Whole milliseconds: a clock that keeps integer time never reaches a fractional deadline.
    return deadline === undefined ? wake.wait : Effect.race(Effect.sleep(Math.ceil(deadline - now)), wake.wait)
  }))

/** Build the TCP shell over `ip`; it lives (registered, timer running) until the scope closes. */
export const makeTcp = (ip: IpAccess, options: TcpOptions = {}): Effect.Effect<Tcp, never, Scope.Scope> =>
  Effect.gen(function* () {
    const clock = yield* Clock.Clock
    const now = () => clock.currentTimeMillisUnsafe()
    const engine = new TcpEngine(ip.sender, { config: options.config ?? {}, random: options.random ?? cryptoRandom })
    const timerWake = new Signal()
    engine.onWake = () => timerWake.wake()
    yield* ip.register(engine)
    yield* Effect.forkScoped(timerLoop(engine, clock, timerWake))

    const parseRemote = (remote: Endpoint) => {
      const address = parseIpv4(remote.address)
      if (typeof address !== "number") {
        return Effect.fail(new StackInvalidArgument({ reason: `${remote.address} is not an IPv4 address` }))
      }
      if (!Number.isInteger(remote.port) || remote.port <= 0 || remote.port > 0xffff) {
        return Effect.fail(new StackInvalidArgument({ reason: `${remote.port} is not a TCP port` }))
      }
      return Effect.succeed(address)
    }

    const connect = (remote: Endpoint, options?: TcpFlowOptions): Effect.Effect<Flow, StackError, Scope.Scope> =>
      Effect.gen(function* () {
        const address = yield* parseRemote(remote)
        const resolved = yield* resolveFlowOptions(options)
        const c = yield* Effect.acquireRelease(
          Effect.suspend((): Effect.Effect<Connection, StackError> => {
            const result = engine.connect(address, remote.port, now())
            if (result === "no-route") return Effect.fail(new StackUnreachable({ address: remote.address, reason: "no route" }))
            if (typeof result === "string") {
              return Effect.fail(new StackPortUnavailable({ protocol: "tcp", port: 0, reason: result }))
            }
            return Effect.succeed(result)
          }),
          (c) => Effect.sync(() => c.close(now())),
        )
        applyFlowOptions(c, resolved, now())
        const flow = connectionFlow(c, now)
        const opened = new Signal()
        const notifyFlow = c.notify
        c.notify = () => {
          opened.wake()
          notifyFlow()
        }
        yield* opened.until(() => {
          if (c.state === "CLOSED") return Effect.fail(connectionError(c, flow.remote, "connect"))
          return c.state === "SYN-SENT" || c.state === "SYN-RECEIVED" ? undefined : Effect.void
        })
        c.notify = notifyFlow
        return flow
      })

    const listen = (
      port: number,
      handler: (flow: Flow) => Effect.Effect<void>,
      options?: TcpFlowOptions,
    ): Effect.Effect<void, StackError, Scope.Scope> =>
      Effect.gen(function* () {
        const resolved = yield* resolveFlowOptions(options)
        const listener = engine.listen(port)
        if (listener === "invalid-port") return yield* new StackInvalidArgument({ reason: `${port} is not a TCP port` })
        if (listener === "port-in-use") {
          return yield* new StackPortUnavailable({ protocol: "tcp", port, reason: "already listening" })
        }
        yield* Effect.addFinalizer(() => Effect.sync(() => engine.unlisten(listener, now())))
        const ready = new Signal()
        listener.notify = () => ready.wake()
        const serve = (flow: Flow) =>
          handler(flow).pipe(Effect.ensuring(flow.close))
        yield* Effect.forkScoped(Effect.forever(Effect.gen(function* () {
          const c = yield* ready.until(() => {
            const next = listener.accept()
            return next === undefined ? undefined : Effect.succeed(next)
          })
          applyFlowOptions(c, resolved, now())
          yield* Effect.forkScoped(serve(connectionFlow(c, now)))
        })))
      })

    return { listen, connect, engine }
  })
