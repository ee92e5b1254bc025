/**
 * Helpers for engine tests: an established connection pair over a `Sim`,
 * and hand-crafted segments for injection (blind attacks, probes).
 */
import type { Connection } from "../../../src/net/tcp/connection.ts"
import type { Listener } from "../../../src/net/tcp/listener.ts"
import type { Header } from "../../../src/net/wire/tcp.ts"
import { emit, headerLength } from "../../../src/net/wire/tcp.ts"
import type { Sim } from "./sim.ts"

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
