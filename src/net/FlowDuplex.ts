/**
 * A flow as a Node `Duplex` stream, so Node code (`node:http`, `node:tls`…)
 * can run over our TCP: reads pull from `flow.read` when Node wants data,
 * writes complete when `flow.write` accepted the bytes (backpressure through
 * the write callback), `end()` shuts the flow down, `destroy()` closes it.
 */
import { Effect } from "effect"
import { Duplex } from "node:stream"
import type { Flow } from "./Stack.ts"

/** A `Duplex` over `flow`; its effects run on the default runtime. */
export const toDuplex = (flow: Flow): Duplex => {
  let reading = false
  const duplex: Duplex = new Duplex({
    read() {
      if (reading) return
      reading = true
      const pump = (): void => {
        Effect.runPromise(flow.read).then((data) => {
          if (data === undefined) {
            reading = false
            duplex.push(null)
          } else if (duplex.push(data)) pump()
          else reading = false
        }, (error: Error) => {
          reading = false
          duplex.destroy(error)
        })
      }
      pump()
    },
    write(chunk: Buffer | Uint8Array, _encoding, callback) {
      Effect.runPromise(flow.write(chunk)).then(() => callback(), (error: unknown) => callback(error as Error))
    },
    writev(chunks, callback) {
      Effect.runPromise(flow.writev(chunks.map((c) => c.chunk as Uint8Array))).then(() => callback(), (error: unknown) => callback(error as Error))
    },
    final(callback) {
      Effect.runPromise(flow.shutdown).then(() => callback(), (error: unknown) => callback(error as Error))
    },
    destroy(error, callback) {
      Effect.runPromise(flow.close).then(() => callback(error), () => callback(error))
    },
  })
  // What Node code expects of a `net.Socket` beyond `Duplex`: its no-delay and keepalive reach the flow,
  // as `net.Socket`'s reach its socket (an initial delay of 0 means the default idle time; timeouts are not mapped).
  Object.assign(duplex, {
    remoteAddress: flow.remote.address,
    remotePort: flow.remote.port,
    localAddress: flow.local.address,
    localPort: flow.local.port,
    setNoDelay: (noDelay = true) => {
      Effect.runSync(flow.setNoDelay(noDelay))
      return duplex
    },
    setKeepAlive: (enable = false, initialDelay = 0) => {
      const idle = Number.isFinite(initialDelay) && initialDelay > 0 ? { idleMs: initialDelay } : {}
      Effect.runSync(Effect.orDie(flow.setKeepalive(enable ? idle : undefined)))
      return duplex
    },
    setTimeout: () => duplex,
  })
  return duplex
}
