/**
 * A bulk transfer over the simulation: A connects to B, each side writes its
 * bytes as fast as its send buffer allows, shuts down, and reads until the
 * peer's FIN; the result has the SHA-256 of what each side received.
 */
import { createHash } from "node:crypto"
import type { Connection } from "../../../src/net/tcp/connection.ts"
import type { Listener } from "../../../src/net/tcp/listener.ts"
import { prng, type Sim } from "./sim.ts"

/** `n` deterministic pseudo-random bytes. */
export const pattern = (n: number, seed: number): Uint8Array => {
  const rand = prng(seed)
  const out = new Uint8Array(n)
  for (let i = 0; i < n; i += 4) {
    const word = Math.floor(rand() * 4294967296)
    out[i] = word
    out[i + 1] = word >>> 8
    out[i + 2] = word >>> 16
    out[i + 3] = word >>> 24
  }
  return out
}

/** SHA-256 of bytes, in hex. */
export const sha256 = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex")

/** One side's application: writes `data`, then shuts down; reads everything until end of stream. */
export class Peer {
  readonly hash = createHash("sha256")
  received = 0
  ended = false
  private written = 0
  private shut = false
  connection: Connection | undefined
  private readonly data: Uint8Array
  private readonly chunk: number

  constructor(data: Uint8Array, chunk = 65536) {
    this.data = data
    this.chunk = chunk
  }

  /** Move bytes between the application and the connection. */
  step(now: number): void {
    const c = this.connection
    if (c === undefined || c.state === "CLOSED") return
    while (this.written < this.data.length && c.canSend && c.sendRoom > 0) {
      const n = c.send(this.data.subarray(this.written, Math.min(this.data.length, this.written + this.chunk)), now)
      if (n === 0) break
      this.written += n
    }
    if (this.written === this.data.length && !this.shut && c.canSend) {
      this.shut = true
      c.shutdown(now)
    }
    for (let data = c.receive(65536, now); data !== undefined; data = c.receive(65536, now)) {
      this.hash.update(data)
      this.received += data.length
    }
    if (c.atEndOfStream) this.ended = true
  }
}

/** What a transfer achieved. */
export interface TransferResult {
  readonly completed: boolean
  readonly aReceived: string
  readonly bReceived: string
  readonly simulatedMs: number
  readonly client: Connection
  readonly server: Connection | undefined
}

/** Transfer `aToB` and `bToA` both ways at once over `sim` (B listens on port 80). */
export const transfer = (sim: Sim, aToB: Uint8Array, bToA: Uint8Array, limitMs = 3_600_000): TransferResult => {
  const listener = sim.b.engine.listen(80) as Listener
  const client = sim.a.engine.connect(sim.b.address, 80, sim.now)
  if (typeof client === "string") throw new Error(client)
  const a = new Peer(aToB)
  const b = new Peer(bToA)
  a.connection = client
  const start = sim.now
  const completed = sim.run(
    () => a.ended && b.ended && (client.state === "CLOSED" || client.state === "TIME-WAIT"),
    () => {
      b.connection ??= listener.accept()
      a.step(sim.now)
      b.step(sim.now)
    },
    limitMs,
  )
  return {
    completed,
    aReceived: a.hash.digest("hex"),
    bReceived: b.hash.digest("hex"),
    simulatedMs: sim.now - start,
    client,
    server: b.connection,
  }
}
