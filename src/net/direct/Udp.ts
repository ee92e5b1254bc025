/**
 * UDP of the direct stack: the `udp` half of `Stack` over `IpLayer`, with
 * the UDP engine (`engine/udp.ts`) registered as protocol 17.
 *
 * Each listening port has a bounded queue (1024 datagrams; beyond, new ones
 * are dropped and counted) drained by a fiber of its own that calls the
 * handler one datagram at a time, so a slow handler delays only its port
 * and never the receive fiber.
 */
import { Context, Effect, Layer, Queue, Random } from "effect"
import { UdpEngine, EPHEMERAL_FIRST, EPHEMERAL_LAST, MAX_PAYLOAD, datagramLength, writeDatagram } from "../engine/udp.ts"
import type { Listener, UdpStats } from "../engine/udp.ts"
import type { Datagram, Stack, StackError } from "../Stack.ts"
import { StackInvalidArgument, StackPortUnavailable } from "../Stack.ts"
import { formatIpv4, parseIpv4 } from "../wire/addr.ts"
import { PROTOCOL } from "../wire/udp.ts"
import * as Log from "../../core/Log.ts"
import { IpLayer } from "./IpLayer.ts"

/** Datagrams buffered per listening port before new ones are dropped. */
export const PORT_QUEUE = 1024

/** Counters of the direct stack's UDP. */
export interface DirectUdpStats extends UdpStats {
  /** Datagrams dropped because their port's queue was full. */
  readonly queueDrops: number
}

/** The direct stack's UDP: `Stack`'s `udp`, and counters. */
export class DirectUdp extends Context.Service<DirectUdp, Stack["Service"]["udp"] & {
  readonly stats: Effect.Effect<DirectUdpStats>
}>()("effect-uk/DirectUdp") {}

const isPort = (port: number): boolean => Number.isInteger(port) && port >= 1 && port <= 65535

const badPort = (what: string, port: number) =>
  Effect.fail(new StackInvalidArgument({ reason: `${what} ${port} is not a port number: use 1 to 65535` }))

/** UDP over the `IpLayer`; registered as protocol 17 while the layer lives. */
export const layerUdp: Layer.Layer<DirectUdp, never, IpLayer> = Layer.effect(DirectUdp, Effect.gen(function* () {
  const ip = yield* IpLayer
  const engine = new UdpEngine(ip.unreachable, yield* Random.nextIntBetween(0, EPHEMERAL_LAST - EPHEMERAL_FIRST))
  yield* ip.register(engine)
  const ourAddress = ip.cidr.address
  const ourText = formatIpv4(ourAddress)
  let queueDrops = 0
  /** The last destination text and what it parsed to: a sender usually sends to one peer. */
  let lastText = ""
  let lastAddress: ReturnType<typeof parseIpv4> = parseIpv4(lastText)

  const bind = (port: number, listener: Listener) =>
    Effect.acquireRelease(
      Effect.sync(() => engine.bind(port, listener)),
      (bound) => (bound ? Effect.sync(() => engine.unbind(port, listener)) : Effect.void),
    )

  return DirectUdp.of({
    listen: (port, handler) =>
      Effect.gen(function* () {
        if (!isPort(port)) return yield* badPort("UDP port", port)
        const queue = yield* Queue.dropping<Datagram>(PORT_QUEUE)
        const listener: Listener = (source, sourcePort, destination, destinationPort, payload) => {
          const datagram: Datagram = {
            source: { address: formatIpv4(source), port: sourcePort },
            destination: { address: destination === ourAddress ? ourText : formatIpv4(destination), port: destinationPort },
            payload: payload.slice(),
          }
          if (!Queue.offerUnsafe(queue, datagram)) queueDrops++
        }
        if (!(yield* bind(port, listener))) {
          return yield* new StackPortUnavailable({ protocol: "udp", port, reason: "another listener holds it" })
        }
        const handle = (datagram: Datagram) =>
          Effect.catchDefect(handler(datagram), (defect) =>
            Effect.logWarning(`the handler of UDP port ${port} failed: ${defect instanceof Error ? defect.message : String(defect)}`)
              .pipe(Log.withSource("udp")))
        // The handler runs in the listener's fiber context: its logs keep the program's source.
        yield* Effect.forkScoped(Effect.forever(Effect.flatMap(Queue.takeAll(queue), (batch) => Effect.forEach(batch, handle, { discard: true }))))
      }),
    send: (destination, payload, options) =>
      Effect.suspend((): Effect.Effect<void, StackError> => {
        if (destination.address !== lastText) {
          lastText = destination.address
          lastAddress = parseIpv4(destination.address)
        }
        const address = lastAddress
        if (typeof address !== "number") {
          return Effect.fail(new StackInvalidArgument({ reason: `${destination.address} is not an IPv4 address: use the form 10.0.0.1` }))
        }
        if (!isPort(destination.port)) return badPort("destination port", destination.port)
        if (payload.length > MAX_PAYLOAD) {
          return Effect.fail(new StackInvalidArgument({ reason: `a UDP payload of ${payload.length} bytes is over IPv4's limit of ${MAX_PAYLOAD}: send less` }))
        }
        const sourcePort = options?.sourcePort ?? engine.ephemeral()
        if (sourcePort === undefined) {
          return Effect.fail(new StackPortUnavailable({ protocol: "udp", port: 0, reason: "every ephemeral port is listened on" }))
        }
        if (!isPort(sourcePort)) return badPort("source port", sourcePort)
        const write = writeDatagram(sourcePort, address, destination.port, payload)
        return ip.transmit(address, PROTOCOL, datagramLength(payload.length), write)
      }),
    stats: Effect.sync(() => ({ ...engine.stats, queueDrops })),
  })
}))
