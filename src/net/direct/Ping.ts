/**
 * `Ping`: ICMP echo for programs on the direct stack (`ping 10.0.0.1`).
 * Requests carry an identifier of their own per call and a sequence number;
 * a reply counts when its identifier, sequence and data match. RTTs come from
 * Effect's `Clock` (nanosecond resolution, `TestClock` in tests).
 */
import { Clock, Context, Deferred, Duration, Effect, Layer, Random } from "effect"
import { echoLength, writeEcho } from "../engine/icmp.ts"
import { Type } from "../wire/icmpv4.ts"
import { Protocol } from "../wire/ipv4.ts"
import { parseIpv4 } from "../wire/addr.ts"
import { StackInvalidArgument } from "../Stack.ts"
import type { StackDeviceFailed, StackUnreachable } from "../Stack.ts"
import { IpLayer } from "./IpLayer.ts"

/** How to ping. */
export interface PingOptions {
  /** Echo requests to send (default 3). */
  readonly count?: number
  /** How long to wait for each reply (default 1 second). */
  readonly timeout?: Duration.Input
  /** Time from one request to the next (default 1 second). */
  readonly interval?: Duration.Input
  /** Data bytes per request (default 56, as `ping`); up to 65507, fragmented beyond the MTU. */
  readonly size?: number
}

/** What a ping gave. */
export interface PingResult {
  readonly destination: string
  readonly sent: number
  readonly received: number
  /** The round-trip time of each reply received, in milliseconds, in sequence order. */
  readonly rtts: ReadonlyArray<number>
}

/** Every way a ping fails (lost replies are not failures: they are missing from `rtts`). */
export type PingError = StackUnreachable | StackInvalidArgument | StackDeviceFailed

/** ICMP echo requests from the direct stack. */
export class Ping extends Context.Service<Ping, {
  readonly ping: (destination: string, options?: PingOptions) => Effect.Effect<PingResult, PingError>
}>()("effect-uk/Ping") {}

/** Ping `destination` with the stack's `Ping` service. */
export const ping = (destination: string, options?: PingOptions): Effect.Effect<PingResult, PingError, Ping> =>
  Ping.use((service) => service.ping(destination, options))

/** The largest echo data in one IPv4 datagram: 65535 − 20 − 8. */
const MAX_SIZE = 65507

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** `Ping` over the `IpLayer`. */
export const layerPing: Layer.Layer<Ping, never, IpLayer> = Layer.effect(Ping, Effect.gen(function* () {
  const ip = yield* IpLayer
  const clock = yield* Clock.Clock
  /** Outstanding requests by `identifier << 16 | sequence`: their data and when the reply came. */
  const outstanding = new Map<number, { readonly data: Uint8Array; readonly reply: Deferred.Deferred<bigint> }>()
  let identifier = yield* Random.nextIntBetween(0, 0xffff)
  yield* ip.observeIcmp((_source, message) => {
    if (message._tag !== "Icmpv4Echo" || message.type !== Type.EchoReply) return
    const key = ((message.identifier << 16) | message.sequence) >>> 0
    const request = outstanding.get(key)
    if (request === undefined || !sameBytes(request.data, message.payload)) return
    outstanding.delete(key)
    Deferred.doneUnsafe(request.reply, Effect.succeed(clock.currentTimeNanosUnsafe()))
  })

  const echo = (destination: number, id: number, sequence: number, data: Uint8Array, timeout: Duration.Input) => {
    const key = ((id << 16) | sequence) >>> 0
    return Effect.gen(function* () {
      const reply = Deferred.makeUnsafe<bigint>()
      outstanding.set(key, { data, reply })
      const sentAt = clock.currentTimeNanosUnsafe()
      yield* ip.transmit(destination, Protocol.Icmp, echoLength(data.length), (buffer, offset) =>
        writeEcho(buffer, offset, Type.EchoRequest, id, sequence, data))
      const at = yield* Effect.timeoutOption(Deferred.await(reply), timeout)
      return at._tag === "Some" ? Number(at.value - sentAt) / 1e6 : undefined
    }).pipe(Effect.ensuring(Effect.sync(() => outstanding.delete(key))))
  }

  return Ping.of({
    ping: (destination, options = {}) =>
      Effect.gen(function* () {
        const address = parseIpv4(destination)
        if (typeof address !== "number") {
          return yield* new StackInvalidArgument({ reason: `${destination} is not an IPv4 address: use the form 10.0.0.1` })
        }
        const count = options.count ?? 3
        const size = options.size ?? 56
        if (!Number.isInteger(count) || count < 1) {
          return yield* new StackInvalidArgument({ reason: `ping count ${count} is not a positive integer` })
        }
        if (!Number.isInteger(size) || size < 0 || size > MAX_SIZE) {
          return yield* new StackInvalidArgument({ reason: `ping size ${size} is not in 0..${MAX_SIZE}` })
        }
        const timeout = options.timeout ?? "1 second"
        const interval = Duration.toMillis(Duration.fromInputUnsafe(options.interval ?? "1 second"))
        yield* ip.resolve(address)
        identifier = (identifier + 1) & 0xffff
        const data = Uint8Array.from({ length: size }, (_, i) => i & 0xff)
        const rtts: Array<number> = []
        for (let sequence = 0; sequence < count; sequence++) {
          const started = clock.currentTimeMillisUnsafe()
          const rtt = yield* echo(address, identifier, sequence & 0xffff, data, timeout)
          if (rtt !== undefined) rtts.push(rtt)
          const rest = interval - (clock.currentTimeMillisUnsafe() - started)
          if (sequence + 1 < count && rest > 0) yield* Effect.sleep(Duration.millis(rest))
        }
        return { destination, sent: count, received: rtts.length, rtts }
      }),
  })
}))
