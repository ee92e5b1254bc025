/**
 * A TCP `Flow` over a host `net.Socket`. Received chunks wait in a queue;
 * the socket is paused while the queue is full, so a slow reader holds the
 * peer back through TCP's window instead of filling memory.
 */
import { Cause, Effect, Queue } from "effect"
import type * as net from "node:net"
import { makeFlow } from "../FlowStream.ts"
import type { Endpoint, Flow, TcpError } from "../Stack.ts"
import { TcpClosed } from "../Stack.ts"
import { connectionError } from "./errors.ts"

/** Chunks buffered before the socket is paused. */
const highWater = 64

/** The dotted IPv4 form of a socket address (`::ffff:10.0.0.1` → `10.0.0.1`). */
export const ipv4Of = (address: string | undefined): string => (address ?? "0.0.0.0").replace(/^::ffff:/, "")

/** Wrap a connected socket. Its `close` destroys the socket. */
export const makeSocketFlow = (socket: net.Socket): Effect.Effect<Flow> =>
  Effect.gen(function* () {
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
    })
  })
