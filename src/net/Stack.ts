/**
 * The `Stack` device: the program-facing TCP/IP API (MirageOS `Stackv4`).
 * Two implementations provide it: the socket stack over the host's
 * `node:dgram`/`node:net` (`--net socket`) and our own direct stack over a
 * `Netif` (`--net direct`). A program written against `Stack` runs on both.
 *
 * Addresses at this API are dotted IPv4 strings (`"10.0.0.2"`).
 */
import { Context, Data } from "effect"
import type { Effect, Scope, Stream } from "effect"

/** An IPv4 address and a port. */
export interface Endpoint {
  readonly address: string
  readonly port: number
}

/** A received UDP datagram. */
export interface Datagram {
  readonly source: Endpoint
  readonly destination: Endpoint
  /** The payload; a view the handler may keep. */
  readonly payload: Uint8Array
}

/** A port is in use, or may not be used (privileged, out of range). */
export class StackPortUnavailable extends Data.TaggedError("StackPortUnavailable")<{
  readonly protocol: "udp" | "tcp"
  readonly port: number
  readonly reason: string
}> {
  override get message() {
    return `${this.protocol} port ${this.port} is unavailable: ${this.reason}; choose another port or stop what holds it`
  }
}

/** A destination cannot be reached (no route, no ARP answer, host unreachable). */
export class StackUnreachable extends Data.TaggedError("StackUnreachable")<{
  readonly address: string
  readonly reason: string
}> {
  override get message() {
    return `${this.address} is unreachable: ${this.reason}; check --ipv4, --ipv4-gateway and the peer`
  }
}

/** An argument is malformed (not an IPv4 address, payload too large…). */
export class StackInvalidArgument extends Data.TaggedError("StackInvalidArgument")<{ readonly reason: string }> {
  override get message() {
    return this.reason
  }
}

/** The stack's device failed underneath (the network interface went away…). */
export class StackDeviceFailed extends Data.TaggedError("StackDeviceFailed")<{ readonly reason: string; readonly cause?: unknown }> {
  override get message() {
    return `network device failed: ${this.reason}`
  }
}

/** A TCP connection attempt was refused (RST). */
export class TcpRefused extends Data.TaggedError("TcpRefused")<{ readonly remote: Endpoint }> {
  override get message() {
    return `connection to ${this.remote.address}:${this.remote.port} refused: nothing listens there`
  }
}

/** A TCP connection attempt or a connection timed out. */
export class TcpTimeout extends Data.TaggedError("TcpTimeout")<{ readonly remote: Endpoint; readonly during: string }> {
  override get message() {
    return `connection to ${this.remote.address}:${this.remote.port} timed out during ${this.during}`
  }
}

/** The peer reset the connection. */
export class TcpReset extends Data.TaggedError("TcpReset")<{ readonly remote: Endpoint }> {
  override get message() {
    return `connection to ${this.remote.address}:${this.remote.port} was reset by the peer`
  }
}

/** The connection is closed for this operation (write after shutdown or close). */
export class TcpClosed extends Data.TaggedError("TcpClosed")<{ readonly remote: Endpoint; readonly operation: string }> {
  override get message() {
    return `cannot ${this.operation}: the connection to ${this.remote.address}:${this.remote.port} is closed`
  }
}

/** Every error of the Stack device. */
export type StackError =
  | StackPortUnavailable
  | StackUnreachable
  | StackInvalidArgument
  | StackDeviceFailed
  | TcpRefused
  | TcpTimeout
  | TcpReset
  | TcpClosed

/** Every error of a TCP flow. */
export type TcpError = TcpRefused | TcpTimeout | TcpReset | TcpClosed | StackUnreachable | StackDeviceFailed

/**
 * Keepalive probing of an idle connection (RFC 1122 §4.2.3.6; MirageOS's
 * `Keepalive.t`). A field left out takes the default: 2 hours of silence
 * before the first probe, 75 s between unanswered probes, the connection
 * dropped (`TcpTimeout`) after 9 of them.
 */
export interface Keepalive {
  /** Silence, in milliseconds, before the first probe. */
  readonly idleMs?: number
  /** Milliseconds between unanswered probes. */
  readonly intervalMs?: number
  /** Unanswered probes after which the connection is dropped. */
  readonly probes?: number
}

/** Options of one TCP connection: of `Stack.tcp.connect`, and of each connection `listen` accepts. */
export interface TcpFlowOptions {
  /** `true`: Nagle's algorithm off, small writes go out at once; the stack's setting if left out. */
  readonly noDelay?: boolean
  /** Probe the connection while it is idle; the stack's setting (none by default) if left out. */
  readonly keepalive?: Keepalive
}

/** One TCP connection (MirageOS `flow`). */
export interface Flow {
  readonly local: Endpoint
  readonly remote: Endpoint
  /** The next bytes received, or `undefined` at the end of the stream (the peer closed its side). */
  readonly read: Effect.Effect<Uint8Array | undefined, TcpError>
  /**
   * Receive into `buffer`, as `recv(2)` does: how many bytes were copied to
   * its start (at least one, at most `buffer.length`; 0 only for an empty
   * buffer), or `undefined` at the end of the stream. Reading into one
   * reused buffer allocates nothing per read. On the direct stack, a read
   * that waits lends `buffer` to the connection: bytes arriving meanwhile
   * are copied straight into it (once, not through the receive buffer), and
   * the window offered to the peer stays open; an interrupted read leaves
   * what its buffer took for the next read.
   */
  readonly readInto: (buffer: Uint8Array) => Effect.Effect<number | undefined, TcpError>
  /**
   * Send bytes; waits while the send buffer is full (backpressure) and
   * completes once the stack holds all of them. Until then `data` is
   * referenced, not copied: it must not change. An interrupted write sends
   * only the bytes the stack had taken.
   */
  readonly write: (data: Uint8Array) => Effect.Effect<void, TcpError>
  /** Send several buffers in order, as one write. */
  readonly writev: (data: ReadonlyArray<Uint8Array>) => Effect.Effect<void, TcpError>
  /** Close our sending side (FIN); reading goes on. */
  readonly shutdown: Effect.Effect<void, TcpError>
  /** Close the connection both ways and release it. */
  readonly close: Effect.Effect<void>
  /** The bytes received, as a stream that ends with the peer's FIN. */
  readonly stream: Stream.Stream<Uint8Array, TcpError>
  /** Turn Nagle's algorithm off (`true`: small writes go out at once) or back on (Node's `socket.setNoDelay`). */
  readonly setNoDelay: (noDelay: boolean) => Effect.Effect<void>
  /** Start, change or (`undefined`) stop keepalive probing; a value out of range fails, naming it. */
  readonly setKeepalive: (keepalive: Keepalive | undefined) => Effect.Effect<void, StackInvalidArgument>
}

/** The program-facing TCP/IP stack. */
export class Stack extends Context.Service<Stack, {
  /** The stack's IPv4 addresses. */
  readonly addresses: ReadonlyArray<string>
  readonly udp: {
    /**
     * Call `handler` for every datagram to `port` until the scope closes
     * (MirageOS `listen_udpv4`); one datagram at a time per port.
     */
    readonly listen: (
      port: number,
      handler: (datagram: Datagram) => Effect.Effect<void>,
    ) => Effect.Effect<void, StackError, Scope.Scope>
    /** Send one datagram; from `sourcePort`, or an ephemeral port. */
    readonly send: (
      destination: Endpoint,
      payload: Uint8Array,
      options?: { readonly sourcePort?: number },
    ) => Effect.Effect<void, StackError>
  }
  readonly tcp: {
    /**
     * Accept connections on `port` until the scope closes, running `handler`
     * in its own fiber for each (MirageOS `listen_tcpv4`); the flow is closed
     * when the handler ends. `options` apply to every connection accepted.
     */
    readonly listen: (
      port: number,
      handler: (flow: Flow) => Effect.Effect<void>,
      options?: TcpFlowOptions,
    ) => Effect.Effect<void, StackError, Scope.Scope>
    /** Open a connection, with `options` from its start; it is closed when the scope closes. */
    readonly connect: (remote: Endpoint, options?: TcpFlowOptions) => Effect.Effect<Flow, StackError, Scope.Scope>
  }
}>()("effect-uk/Stack") {}
