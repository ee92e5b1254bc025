/**
 * A listening port (RFC 9293 LISTEN): its SYN queue of half-open connections
 * and its backlog of established connections the application has not yet
 * accepted, both bounded so that a SYN flood cannot grow memory without
 * bound. While the SYN queue is full, the engine answers SYNs with SYN
 * cookies; without them, the queue drops its oldest half-open connection for
 * the new one (so a flood cannot lock legitimate clients out for a whole SYN
 * timeout). A full backlog leaves the handshake's last ACK unanswered, and
 * the peer retransmits it later.
 */
import type { Connection } from "./connection.ts"

/** A listening port and its queues. */
export class Listener {
  readonly port: number
  /** Called when a connection becomes ready to accept. */
  notify: () => void = () => {}
  /** When this listener last answered a SYN with a cookie (an ACK is checked for one only within the cookies' lifetime). */
  cookieSentAt: number | undefined = undefined
  private readonly synQueue = new Set<Connection>()
  private readonly ready: Array<Connection> = []
  private readonly backlog: number
  private readonly synLimit: number

  constructor(port: number, backlog: number, synLimit: number) {
    this.port = port
    this.backlog = backlog
    this.synLimit = synLimit
  }

  /** Half-open connections held. */
  get halfOpen(): number {
    return this.synQueue.size
  }

  /** The SYN queue is at its bound. */
  get synQueueFull(): boolean {
    return this.synQueue.size >= this.synLimit
  }

  /** The backlog is at its bound: a completed handshake must wait. */
  get backlogFull(): boolean {
    return this.ready.length >= this.backlog
  }

  /** Established connections waiting for `accept`. */
  get pending(): number {
    return this.ready.length
  }

  /** Take a new half-open connection; returns the oldest one it evicts to stay within the bound. */
  addHalfOpen(connection: Connection): Connection | undefined {
    let evicted: Connection | undefined
    if (this.synQueueFull) {
      evicted = this.synQueue.values().next().value
      if (evicted !== undefined) this.synQueue.delete(evicted)
    }
    this.synQueue.add(connection)
    return evicted
  }

  /** A half-open connection completed its handshake: false (and nothing changes) if the backlog is full. */
  promote(connection: Connection): boolean {
    if (this.backlogFull) return false
    this.synQueue.delete(connection)
    this.ready.push(connection)
    this.notify()
    return true
  }

  /** A connection of this listener closed before being accepted. */
  forget(connection: Connection): void {
    this.synQueue.delete(connection)
    const at = this.ready.indexOf(connection)
    if (at >= 0) this.ready.splice(at, 1)
  }

  /** The next established connection, or `undefined` when none is waiting. */
  accept(): Connection | undefined {
    return this.ready.shift()
  }

  /** Every connection still queued (to abort them when the listener closes). */
  drain(): Array<Connection> {
    const all = [...this.synQueue, ...this.ready]
    this.synQueue.clear()
    this.ready.length = 0
    return all
  }
}
