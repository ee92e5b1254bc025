/**
 * Helpers for engine tests: an established connection pair over a `Sim`,
 * and hand-crafted segments for injection (blind attacks, probes, floods).
 */
import type { Connection } from "../../../src/net/tcp/connection.ts"
import type { Listener } from "../../../src/net/tcp/listener.ts"
import { ipv4 } from "../../../src/net/wire/addr.ts"
import { seqDiff } from "../../../src/net/wire/seq.ts"
import type { Header, Segment } from "../../../src/net/wire/tcp.ts"
import { emit, Flags, headerLength } from "../../../src/net/wire/tcp.ts"
import { prng } from "./sim.ts"
import type { Host, Sim } from "./sim.ts"

/**
 * A `Sim.filter` dropping the first `times` transmissions of the client's
 * data segments `lost` (indexes of MSS-sized segments from its SND.NXT now).
 */
export const dropTransmissions = (sim: Sim, client: Connection, lost: ReadonlyArray<number>, times = 1) => {
  const base = client.sndNxt
  const dropped = new Map<number, number>()
  return (from: Host, seg: Segment): boolean => {
    if (from !== sim.a || seg.payload.length === 0) return true
    const index = seqDiff(seg.sequenceNumber, base) / client.sndMss
    const count = dropped.get(index) ?? 0
    if (!lost.includes(index) || count >= times) return true
    dropped.set(index, count + 1)
    return false
  }
}

/** A client (on A) and server (on B, port 80) connection, established. */
export interface Pair {
  readonly client: Connection
  readonly server: Connection
  readonly listener: Listener
}

/** Connect A to B:80 and run until both ends are established. */
export const establish = (sim: Sim, port = 80): Pair => {
  const listener = sim.b.engine.listen(port)
  if (typeof listener === "string") throw new Error(listener)
  const client = sim.a.engine.connect(sim.b.address, port, sim.now)
  if (typeof client === "string") throw new Error(client)
  let server: Connection | undefined
  const ok = sim.run(() => client.state === "ESTABLISHED" && server?.state === "ESTABLISHED", () => {
    server ??= listener.accept()
  }, 60_000)
  if (!ok || server === undefined) throw new Error(`handshake did not complete: ${client.state}`)
  return { client, server, listener }
}

/** A segment from `source` to `destination` with `payload` after the header, checksummed. */
export const craft = (
  header: Omit<Header, "payloadLength">,
  source: number,
  destination: number,
  payload: Uint8Array = new Uint8Array(0),
): Uint8Array => {
  const hl = headerLength(header.options)
  const bytes = new Uint8Array(hl + payload.length)
  bytes.set(payload, hl)
  emit({ ...header, payloadLength: payload.length }, bytes, 0, source, destination)
  return bytes
}

/** A segment as if `from` (a connection's peer) sent it to `to`, from `to`'s point of view. */
export const spoof = (
  to: Connection,
  fields: { readonly seq: number; readonly ack?: number; readonly flags: number; readonly window?: number },
  payload?: Uint8Array,
): Uint8Array =>
  craft({
    sourcePort: to.remotePort,
    destinationPort: to.localPort,
    sequenceNumber: fields.seq >>> 0,
    acknowledgmentNumber: (fields.ack ?? 0) >>> 0,
    flags: fields.flags,
    window: fields.window ?? 65535,
  }, to.remoteAddress, to.localAddress, payload)

/** Read everything a connection holds. */
export const drain = (c: Connection, now: number): Uint8Array => {
  const parts: Array<Uint8Array> = []
  for (let d = c.receive(1 << 20, now); d !== undefined; d = c.receive(1 << 20, now)) parts.push(d)
  return Buffer.concat(parts)
}

/**
 * Injects `count` SYNs for B's `port` from made-up sources that never answer
 * (addresses in 192.0.0.0/16, random ports and ISNs drawn from `seed`),
 * running `each` after every one.
 */
export const synFlood = (sim: Sim, port: number, count: number, seed: number, each: () => void = () => {}): void => {
  const rand = prng(seed)
  for (let i = 0; i < count; i++) {
    const source = ipv4(192, 0, (rand() * 256) | 0, (rand() * 256) | 0)
    sim.inject(sim.b, source, craft({
      sourcePort: 1024 + ((rand() * 60000) | 0),
      destinationPort: port,
      sequenceNumber: (rand() * 2 ** 32) >>> 0,
      acknowledgmentNumber: 0,
      flags: Flags.SYN,
      window: 65535,
      options: { mss: 1460 },
    }, source, sim.b.address))
    each()
  }
}
