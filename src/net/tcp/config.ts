/**
 * Tunables of the TCP engine, with defaults close to Linux's and the RFCs'.
 * Every duration is in milliseconds of the stack clock.
 */

/** Keepalive probing (RFC 1122 §4.2.3.6); off unless configured. */
export interface KeepaliveConfig {
  /** Idle time before the first probe. */
  readonly idleMs: number
  /** Time between unanswered probes. */
  readonly intervalMs: number
  /** Unanswered probes after which the connection is dropped. */
  readonly probes: number
}

/** When connections use ECN (RFC 3168). */
export type EcnMode = "off" | "accept" | "on"

/** The engine's configuration; see `defaultConfig` for the values used when a field is left out. */
export interface TcpConfig {
  /** Receive buffer (and largest advertised window) per connection, in bytes. */
  readonly receiveBuffer: number
  /** Send buffer per connection, in bytes: `send` accepts no more than this unacknowledged. */
  readonly sendBuffer: number
  /** Maximum segment lifetime; TIME-WAIT lasts twice this. */
  readonly mslMs: number
  /** Lower bound of the retransmission timeout (RFC 6298 (2.4) allows below 1 s). */
  readonly rtoMinMs: number
  /** Upper bound of the retransmission timeout (RFC 6298 (2.5)). */
  readonly rtoMaxMs: number
  /** The retransmission timeout before any RTT sample (RFC 6298 (2.1)). */
  readonly rtoInitialMs: number
  /** Consecutive retransmission timeouts of data or FIN before the connection is dropped. */
  readonly maxRetransmissions: number
  /** Consecutive SYN (or SYN-ACK) timeouts before an opening connection gives up. */
  readonly maxSynRetransmissions: number
  /** Delayed-ACK timeout (RFC 1122 §4.2.3.2 allows up to 500 ms). */
  readonly delayedAckMs: number
  /** Disable Nagle's algorithm (RFC 896) on new connections. */
  readonly noDelay: boolean
  /** Keepalive probing, or `undefined` for none. */
  readonly keepalive: KeepaliveConfig | undefined
  /** Offer and accept SACK (RFC 2018). */
  readonly sack: boolean
  /** Offer and accept timestamps (RFC 7323 §3). */
  readonly timestamps: boolean
  /** Offer and accept window scaling (RFC 7323 §2). */
  readonly windowScaling: boolean
  /**
   * Explicit Congestion Notification (RFC 3168): `"accept"` uses it when a
   * peer asks in its SYN (Linux's default), `"on"` also asks for it on our
   * connects, `"off"` never uses it.
   */
  readonly ecn: EcnMode
  /** Connections of a listener established but not yet accepted, at most. */
  readonly backlog: number
  /**
   * Half-open connections (SYN-RECEIVED) per listener, at most. Once it is
   * full, SYNs are answered with SYN cookies (`synCookies`) or, without
   * them, the oldest half-open connection is dropped for the new one.
   */
  readonly synQueue: number
  /** Answer SYNs with SYN cookies (RFC 4987 §3.6) while the SYN queue is full, so that a SYN flood cannot lock clients out. */
  readonly synCookies: boolean
  /** Out-of-order ranges kept per connection; a segment that would need more is dropped. */
  readonly maxOutOfOrderRanges: number
  /** Challenge ACKs (RFC 5961 §7) per connection per second, at most. */
  readonly challengeAckLimit: number
}

/** The defaults: 1 MiB buffers (their memory grows with use), MSL 30 s, RTO 200 ms..60 s starting at 1 s, 10 retries, 40 ms delayed ACKs. */
export const defaultConfig: TcpConfig = {
  receiveBuffer: 1024 * 1024,
  sendBuffer: 1024 * 1024,
  mslMs: 30_000,
  rtoMinMs: 200,
  rtoMaxMs: 60_000,
  rtoInitialMs: 1000,
  maxRetransmissions: 10,
  maxSynRetransmissions: 6,
  delayedAckMs: 40,
  noDelay: false,
  keepalive: undefined,
  sack: true,
  timestamps: true,
  windowScaling: true,
  ecn: "accept",
  backlog: 128,
  synQueue: 256,
  synCookies: true,
  maxOutOfOrderRanges: 32,
  challengeAckLimit: 10,
}

/** The default keepalive when enabled without details: 2 h idle, 75 s apart, 9 probes (RFC 1122). */
export const defaultKeepalive: KeepaliveConfig = { idleMs: 7_200_000, intervalMs: 75_000, probes: 9 }

/** `defaultConfig` overridden by the given fields. */
export const makeConfig = (overrides: Partial<TcpConfig> = {}): TcpConfig => ({ ...defaultConfig, ...overrides })
