/**
 * A TCP `Flow` over a host `net.Socket`. Received chunks wait in a queue;
 * the socket is paused while the queue is full, so a slow reader holds the
 * peer back through TCP's window instead of filling memory.
 */
import { Cause, Effect, Queue } from "effect"
import type * as net from "node:net"
import { resolveFlowOptions, resolveKeepalive } from "../flowOptions.ts"
import { makeFlow } from "../FlowStream.ts"
import type { Endpoint, Flow, Keepalive, TcpError, TcpFlowOptions } from "../Stack.ts"
import { StackInvalidArgument, TcpClosed } from "../Stack.ts"
import { connectionError } from "./errors.ts"

/** Chunks buffered before the socket is paused. */
const highWater = 64

/** The dotted IPv4 form of a socket address (`::ffff:10.0.0.1` → `10.0.0.1`). */
export const ipv4Of = (address: string | undefined): string => (address ?? "0.0.0.0").replace(/^::ffff:/, "")

/** Connection options as `node:net` applies them: of keepalive, only the idle time. */
export interface SocketFlowOptions {
  readonly noDelay: boolean | undefined
  readonly keepaliveIdleMs: number | undefined
}

/** The idle time of `keepalive`; the rest `node:net` cannot set, so asking for it fails, saying so. */
const keepaliveIdle = (keepalive: Keepalive): Effect.Effect<number, StackInvalidArgument> =>
  keepalive.intervalMs !== undefined || keepalive.probes !== undefined
    ? Effect.fail(new StackInvalidArgument({
      reason: "the socket stack sets only keepalive.idleMs (node:net cannot set the probes' interval or count): " +
        "leave intervalMs and probes out, or use the direct stack",
    }))
    : Effect.map(resolveKeepalive(keepalive), (resolved) => resolved.idleMs)

/** `options` checked for the socket stack. */
export const socketFlowOptions = (options: TcpFlowOptions = {}): Effect.Effect<SocketFlowOptions, StackInvalidArgument> =>
  Effect.gen(function* () {
    const { keepalive, ...rest } = options
    const { noDelay } = yield* resolveFlowOptions(rest)
    const keepaliveIdleMs = keepalive === undefined ? undefined : yield* keepaliveIdle(keepalive)
    return { noDelay, keepaliveIdleMs }
  })

/** Wrap a connected socket, giving it `options`. Its `close` destroys the socket. */
export const makeSocketFlow = (socket: net.Socket, options: SocketFlowOptions): Effect.Effect<Flow> =>
  Effect.gen(function* () {
    if (options.noDelay !== undefined) socket.setNoDelay(options.noDelay)
    if (options.keepaliveIdleMs !== undefined) socket.setKeepAlive(true, options.keepaliveIdleMs)
    const local: Endpoint = { address: ipv4Of(socket.localAddress), port: socket.localPort ?? 0 }
    const remote: Endpoint = { address: ipv4Of(socket.remoteAddress), port: socket.remotePort ?? 0 }
    const chunks = yield* Queue.unbounded<Uint8Array | undefined, TcpError>()
    let failure: TcpError | undefined
    let buffered = 0
    let ended = false
    socket.on("data", (data: Buffer) => {
      Queue.offerUnsafe(chunks, new Uint8Array(data.buffer, data.byteOffset, data.length))
      if (++buffered >= highWater) socket.pause()
    })
    socket.on("end", () => {
      ended = true
      Queue.offerUnsafe(chunks, undefined)
    })
    socket.on("error", (error) => {
      const typed = connectionError(remote, error)
      failure = typed
      Queue.failCauseUnsafe(chunks, Cause.fail(typed))
    })
    socket.on("close", () => {
      if (!ended) Queue.offerUnsafe(chunks, undefined)
    })
    const read: Effect.Effect<Uint8Array | undefined, TcpError> = Effect.map(Queue.take(chunks), (chunk) => {
      if (chunk === undefined) Queue.offerUnsafe(chunks, undefined) // the end stays the end for later reads
      else if (--buffered < highWater / 2 && socket.isPaused()) socket.resume()
      return chunk
    })
    const writev = (data: ReadonlyArray<Uint8Array>): Effect.Effect<void, TcpError> =>
      Effect.callback<void, TcpError>((resume) => {
        if (socket.writableEnded || socket.destroyed) {
          resume(Effect.fail(failure ?? new TcpClosed({ remote, operation: "write" })))
          return
        }
        socket.cork()
        data.forEach((chunk, i) =>
          socket.write(chunk, i < data.length - 1 ? undefined : (error) =>
            resume(error ? Effect.fail(failure ?? connectionError(remote, error)) : Effect.void)))
        socket.uncork()
        if (data.length === 0) resume(Effect.void)
      })
    return makeFlow({
      local,
      remote,
      read,
      writev,
      shutdown: Effect.callback<void, TcpError>((resume) => {
        if (socket.destroyed) resume(Effect.fail(new TcpClosed({ remote, operation: "shut down" })))
        else socket.end(() => resume(Effect.void))
      }),
      close: Effect.sync(() => {
        socket.destroy()
      }),
      setNoDelay: (noDelay) => Effect.sync(() => void socket.setNoDelay(noDelay)),
      setKeepalive: (keepalive) =>
        keepalive === undefined
          ? Effect.sync(() => void socket.setKeepAlive(false))
          : Effect.map(keepaliveIdle(keepalive), (idleMs) => void socket.setKeepAlive(true, idleMs)),
    })
  })
