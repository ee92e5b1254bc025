/**
 * The socket stack (`--net socket`): the `Stack` device over the host's own
 * TCP/IP through `node:dgram` and `node:net`, as MirageOS's
 * `tcpip.stack-socket`. Handy for developing on unix: it needs no TAP and
 * no privileges, and it is reached on the host's addresses (127.0.0.1…).
 */
import { Effect, Layer, Queue, Scope } from "effect"
import * as dgram from "node:dgram"
import * as net from "node:net"
import type { Datagram, Endpoint } from "../Stack.ts"
import { Stack, StackDeviceFailed, StackInvalidArgument } from "../Stack.ts"
import { bindError, connectionError } from "./errors.ts"
import { ipv4Of, makeSocketFlow, socketFlowOptions } from "./SocketFlow.ts"

/** Where the socket stack listens. */
export interface SocketStackOptions {
  /** The host address to bind listeners to; every address (`0.0.0.0`) unless said. */
  readonly address?: string
}

/** Datagrams buffered per port before new ones are dropped (as a NIC ring would). */
const datagramQueue = 1024

const checkPort = (port: number) =>
  Number.isInteger(port) && port >= 0 && port <= 65535
    ? Effect.void
    : Effect.fail(new StackInvalidArgument({ reason: `port ${port} is not a port number: use 0 to 65535` }))

/** A UDP socket bound to `port` (0: ephemeral) on `address`, closed when the scope closes. */
const bindUdp = (address: string, port: number) =>
  Effect.acquireRelease(
    Effect.callback<dgram.Socket, ReturnType<typeof bindError>>((resume) => {
      const socket = dgram.createSocket({ type: "udp4", reuseAddr: false })
      socket.once("error", (error) => resume(Effect.fail(bindError("udp", port, error))))
      socket.bind(port, address, () => {
        socket.removeAllListeners("error")
        socket.on("error", () => {})
        resume(Effect.succeed(socket))
      })
    }),
    (socket) => Effect.sync(() => socket.close()),
  )

/** The socket stack; sockets opened by it are closed when the layer is released. */
export const layerSocket = (options: SocketStackOptions = {}): Layer.Layer<Stack> =>
  Layer.effect(Stack, Effect.gen(function* () {
    const address = options.address ?? "0.0.0.0"
    const layerScope = yield* Effect.scope
    /** Sockets of listening ports: a send from such a port goes out through them. */
    const udpListeners = new Map<number, dgram.Socket>()
    let ephemeral: dgram.Socket | undefined

    const senderFor = (sourcePort: number | undefined) =>
      Effect.gen(function* () {
        if (sourcePort !== undefined) {
          const listener = udpListeners.get(sourcePort)
          if (listener) return listener
          return yield* bindUdp(address, sourcePort).pipe(Scope.provide(layerScope))
        }
        ephemeral ??= yield* bindUdp(address, 0).pipe(Scope.provide(layerScope))
        return ephemeral
      })

    return Stack.of({
      addresses: [address],
      udp: {
        listen: (port, handler) =>
          Effect.gen(function* () {
            yield* checkPort(port)
            const socket = yield* bindUdp(address, port)
            const queue = yield* Queue.dropping<Datagram>(datagramQueue)
            socket.on("message", (message, remote) => {
              Queue.offerUnsafe(queue, {
                source: { address: ipv4Of(remote.address), port: remote.port },
                destination: { address: ipv4Of(socket.address().address), port },
                payload: new Uint8Array(message.buffer, message.byteOffset, message.length),
              })
            })
            udpListeners.set(port, socket)
            yield* Effect.addFinalizer(() => Effect.sync(() => udpListeners.delete(port)))
            yield* Effect.forkScoped(Effect.forever(Effect.flatMap(Queue.take(queue), handler)))
          }),
        send: (destination, payload, sendOptions) =>
          Effect.gen(function* () {
            yield* checkPort(destination.port)
            if (net.isIPv4(destination.address) === false) {
              return yield* new StackInvalidArgument({ reason: `${destination.address} is not an IPv4 address` })
            }
            const socket = yield* senderFor(sendOptions?.sourcePort)
            yield* Effect.callback<void, StackDeviceFailed>((resume) =>
              socket.send(payload, destination.port, destination.address, (error) =>
                resume(error
                  ? Effect.fail(new StackDeviceFailed({ reason: `sending to ${destination.address}:${destination.port}: ${error.message}`, cause: error }))
                  : Effect.void)))
          }),
      },
      tcp: {
        listen: (port, handler, options) =>
          Effect.gen(function* () {
            yield* checkPort(port)
            const flowOptions = yield* socketFlowOptions(options)
            const scope = yield* Effect.scope
            // Connections accepted and not yet closed: released with the listener, even those no handler took yet
            // (the server's close waits for every connection to end).
            const open = new Set<net.Socket>()
            const server = yield* Effect.acquireRelease(
              Effect.callback<net.Server, ReturnType<typeof bindError>>((resume) => {
                const server = net.createServer({ pauseOnConnect: true, allowHalfOpen: true })
                server.once("error", (error) => resume(Effect.fail(bindError("tcp", port, error))))
                server.listen({ port, host: address }, () => resume(Effect.succeed(server)))
              }),
              (server) => Effect.callback<void>((resume) => {
                server.close(() => resume(Effect.void))
                for (const socket of open) socket.destroy()
              }),
            )
            const accepted = yield* Queue.unbounded<net.Socket>()
            server.on("connection", (socket) => {
              open.add(socket)
              socket.once("close", () => open.delete(socket))
              Queue.offerUnsafe(accepted, socket)
            })
            yield* Effect.forkScoped(Effect.forever(Effect.gen(function* () {
              const socket = yield* Queue.take(accepted)
              const flow = yield* makeSocketFlow(socket, flowOptions)
              socket.resume()
              yield* Effect.forkIn(Effect.ensuring(handler(flow), flow.close), scope)
            })))
          }),
        connect: (remote: Endpoint, options) =>
          Effect.gen(function* () {
            if (!net.isIPv4(remote.address)) {
              return yield* new StackInvalidArgument({ reason: `${remote.address} is not an IPv4 address` })
            }
            const flowOptions = yield* socketFlowOptions(options)
            const socket = yield* Effect.acquireRelease(
              Effect.callback<net.Socket, ReturnType<typeof connectionError>>((resume) => {
                const socket = net.connect({ host: remote.address, port: remote.port, allowHalfOpen: true })
                socket.once("error", (error) => resume(Effect.fail(connectionError(remote, error))))
                socket.once("connect", () => {
                  socket.removeAllListeners("error")
                  resume(Effect.succeed(socket))
                })
              }),
              (socket) => Effect.sync(() => socket.destroy()),
            )
            return yield* makeSocketFlow(socket, flowOptions)
          }),
      },
    })
  }))
