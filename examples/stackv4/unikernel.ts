// stackv4 (2015 tutorial): log UDP datagrams to port 53 and TCP data to port
// 8080, on whichever stack `--net` chose.
import { Effect } from "effect"
import { Key, KeyType, Stack } from "effect-uk"

/** The UDP port to listen on. */
export const udpPort = Key.create("udp-port", KeyType.port, { doc: "The UDP port to listen on.", default: 53 })
/** The TCP port to listen on. */
export const tcpPort = Key.create("tcp-port", KeyType.port, { doc: "The TCP port to listen on.", default: 8080 })

const text = (bytes: Uint8Array) => JSON.stringify(new TextDecoder().decode(bytes))

/** Listen on both ports until stopped. */
export const Main = {
  start: Effect.gen(function* () {
    const stack = yield* Stack
    const udp = yield* udpPort
    const tcp = yield* tcpPort
    yield* stack.udp.listen(udp, ({ source, destination, payload }) =>
      Effect.log(`UDP ${source.address}.${source.port} > ${destination.address}.${destination.port}: ${text(payload)}`))
    yield* stack.tcp.listen(tcp, (flow) =>
      Effect.gen(function* () {
        yield* Effect.log(`TCP ${flow.remote.address}.${flow.remote.port} > _.${tcp}`)
        for (let data = yield* flow.read; data !== undefined; data = yield* flow.read) {
          yield* Effect.log(`read: ${data.length} ${text(data)}`)
        }
      }).pipe(Effect.catch((error) => Effect.logWarning(`TCP error: ${error.message}`))))
    yield* Effect.log(`IP address: ${stack.addresses.join(", ")}`)
    return yield* Effect.never
  }).pipe(Effect.scoped),
}
