// device-usage/network (2017 tutorial): accept TCP connections on --port and
// log what each one sends.
import { Effect } from "effect"
import { Key, KeyType, Stack } from "effect-uk"

/** The TCP port on which to listen for incoming connections. */
export const port = Key.create("port", KeyType.port, {
  doc: "The TCP port on which to listen for incoming connections.",
  default: 8080,
})

/** Log each connection and the data it carries, until stopped. */
export const Main = {
  start: Effect.gen(function* () {
    const stack = yield* Stack
    yield* stack.tcp.listen(yield* port, (flow) =>
      Effect.gen(function* () {
        yield* Effect.log(`new tcp connection from IP ${flow.remote.address} on port ${flow.remote.port}`)
        for (let data = yield* flow.read; data !== undefined; data = yield* flow.read) {
          yield* Effect.log(`read: ${data.length} ${JSON.stringify(new TextDecoder().decode(data))}`)
        }
        yield* Effect.log("Closing connection!")
      }).pipe(Effect.catch((error) => Effect.logWarning(`Error reading data from established connection: ${error.message}`))))
    return yield* Effect.never
  }).pipe(Effect.scoped),
}
