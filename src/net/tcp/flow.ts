/**
 * A `Flow` (src/net/Stack.ts) over an engine connection: reads wait for data
 * or the peer's FIN, writes wait for send-buffer room (backpressure), and a
 * connection that ended abnormally fails them with the typed TCP errors.
 */
import { Effect, Semaphore } from "effect"
import type { ResolvedFlowOptions } from "../flowOptions.ts"
import { resolveKeepalive } from "../flowOptions.ts"
import { makeFlow } from "../FlowStream.ts"
import type { Endpoint, Flow, TcpError } from "../Stack.ts"
import { StackUnreachable, TcpClosed, TcpRefused, TcpReset, TcpTimeout } from "../Stack.ts"
import { formatIpv4 } from "../wire/addr.ts"
import type { Connection } from "./connection.ts"
import { Signal } from "./signal.ts"

/** The most bytes one `read` returns. */
const READ_CHUNK = 65536

/**
 * Runs `make` with stack traces off: the errors of ended connections are
 * routine (every peer's abortive close makes one) and their stack would only
 * name the engine's internals, while capturing it costs more than the rest
 * of a short connection's handling.
 */
const withoutStackTrace = <A>(make: () => A): A => {
  const limit = Error.stackTraceLimit
  Error.stackTraceLimit = 0
  try {
    return make()
  } finally {
    Error.stackTraceLimit = limit
  }
}

/** The error for an operation on a connection that cannot do it any more. */
export const connectionError = (c: Connection, remote: Endpoint, operation: string): TcpError =>
  withoutStackTrace(() => errorFor(c, remote, operation))

/** The typed error for why `c` ended. */
const errorFor = (c: Connection, remote: Endpoint, operation: string): TcpError => {
  switch (c.closeReason) {
    case "reset":
      return new TcpReset({ remote })
    case "refused":
      return new TcpRefused({ remote })
    case "unreachable":
      return new StackUnreachable({ address: remote.address, reason: c.unreachableBecause })
    case "timeout":
      return new TcpTimeout({ remote, during: c.timeoutDuring })
    default:
      return new TcpClosed({ remote, operation })
  }
}

/** Give connection `c` the options set for it (connect's, or its listener's). */
export const applyFlowOptions = (c: Connection, options: ResolvedFlowOptions, now: number): void => {
  if (options.noDelay !== undefined) c.setNoDelay(options.noDelay, now)
  if (options.keepalive !== undefined) c.setKeepalive(options.keepalive, now)
}

/** The flow of connection `c`, with `now` reading the stack clock; it takes over `c.notify`. */
export const connectionFlow = (c: Connection, now: () => number): Flow => {
  const signal = new Signal()
  c.notify = () => signal.wake()
  const local = { address: formatIpv4(c.localAddress), port: c.localPort }
  const remote = { address: formatIpv4(c.remoteAddress), port: c.remotePort }
  const writeLock = Semaphore.makeUnsafe(1)

  /** Waits until `take` gets bytes (its result), the stream ends (`undefined`) or the connection fails. */
  const receiving = <A>(take: () => A | undefined): Effect.Effect<A | undefined, TcpError> =>
    signal.until(() => {
      const taken = take()
      if (taken !== undefined) return Effect.succeed(taken)
      if (c.atEndOfStream) return Effect.succeed(undefined)
      if (c.state === "CLOSED") return Effect.fail(connectionError(c, remote, "read"))
      return undefined
    })
  /**
   * `receiving(take)` for a reader that made a loan (`lent`) of its buffer
   * when none was waiting: bytes arriving meanwhile go straight to it, the
   * window staying open; `withdraw` ends the loan however the wait ends, so
   * an interrupted read leaves its bytes to the next.
   */
  const lending = <A>(lent: boolean, take: () => A | undefined, withdraw: () => void) =>
    lent ? Effect.ensuring(receiving(take), Effect.sync(withdraw)) : receiving(take)
  const read = Effect.suspend(() =>
    lending(
      c.receiveBuffer.lendNew(READ_CHUNK),
      () => c.receiveBuffer.takeNew() ?? c.receive(READ_CHUNK, now()),
      () => c.receiveBuffer.withdraw(),
    )
  )
  const readInto = (buffer: Uint8Array): Effect.Effect<number | undefined, TcpError> =>
    buffer.length === 0 ? Effect.succeed(0) : Effect.suspend(() =>
      lending(
        c.receiveBuffer.lend(buffer),
        () => c.receiveInto(buffer, now()) || undefined,
        () => c.receiveBuffer.withdraw(buffer),
      )
    )

  /** Fails once the connection can no longer send; succeeds once `c` holds all of the write's bytes. */
  const written = (): Effect.Effect<void, TcpError> | undefined => {
    if (!c.canSend) return Effect.fail(connectionError(c, remote, "write"))
    return c.sendWaiting ? undefined : Effect.void
  }
  const waitWritten = Effect.onInterrupt(signal.until(written), () => Effect.sync(() => c.abandonSend()))
  const writeAll = (data: Uint8Array): Effect.Effect<void, TcpError> =>
    Effect.suspend(() => {
      if (!c.canSend) return Effect.fail(connectionError(c, remote, "write"))
      return c.sendAll(data, now()) ? Effect.void : waitWritten
    })

  const writev = (data: ReadonlyArray<Uint8Array>): Effect.Effect<void, TcpError> =>
    writeLock.withPermit(Effect.forEach(data, writeAll, { discard: true }))

  return makeFlow({
    local,
    remote,
    read,
    readInto,
    writev,
    shutdown: Effect.suspend(() => {
      if (c.state === "CLOSED" && c.closeReason !== "closed") return Effect.fail(connectionError(c, remote, "shut down"))
      c.shutdown(now())
      return Effect.void
    }),
    close: Effect.sync(() => c.close(now())),
    setNoDelay: (noDelay) => Effect.sync(() => c.setNoDelay(noDelay, now())),
    setKeepalive: (keepalive) =>
      keepalive === undefined
        ? Effect.sync(() => c.setKeepalive(undefined, now()))
        : Effect.flatMap(resolveKeepalive(keepalive), (resolved) => Effect.sync(() => c.setKeepalive(resolved, now()))),
  })
}
