/**
 * Effect's `HttpServer` over the `Stack`'s TCP: `HttpRouter.serve(app)` and
 * `HttpServer.serve(handler)` answer on a port of our stack (direct or
 * socket) as they would on a Node `http.Server`. Node's HTTP parser reads
 * each flow through `toDuplex`, and `@effect/platform-node`'s handler turns
 * its requests into `HttpServerRequest`s, as `NodeHttpServer` does for a
 * listening Node server; a response still being sent when its client goes
 * away is interrupted.
 */
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { Effect, Layer, Result, Scope } from "effect"
import { HttpServer } from "effect/http"
import { NetAddress } from "effect/net"
import * as Http from "node:http"
import { toDuplex } from "./FlowDuplex.ts"
import { Stack } from "./Stack.ts"
import type { StackError } from "./Stack.ts"

/** Where the server listens. */
export interface StackHttpServerOptions {
  /** The TCP port to accept connections on. */
  readonly port: number
}

/**
 * An `HttpServer` accepting connections on `options.port` of the `Stack`
 * until the scope closes; then it stops accepting, and the connections and
 * requests still open are closed and interrupted.
 */
export const make = (options: StackHttpServerOptions): Effect.Effect<HttpServer.HttpServer["Service"], StackError, Stack | Scope.Scope> =>
  Effect.gen(function* () {
    const stack = yield* Stack
    const server = Http.createServer()
    yield* stack.tcp.listen(options.port, (flow) =>
      Effect.callback<void>((resume) => {
        const connection = toDuplex(flow)
        connection.on("close", () => resume(Effect.void))
        server.emit("connection", connection)
        return Effect.sync(() => connection.destroy())
      }))
    const host = Result.getOrUndefined(NetAddress.inetAddressFromIpString(stack.addresses[0] ?? "0.0.0.0", options.port))
    return HttpServer.make({
      address: host ?? NetAddress.inetAddressUnsafe(NetAddress.ipv4Unspecified, options.port),
      serve: (httpEffect, middleware) =>
        Effect.gen(function* () {
          const scope = yield* Effect.scope
          const handler = yield* NodeHttpServer.makeHandler(httpEffect, { scope, middleware })
          server.on("request", handler)
          yield* Scope.addFinalizer(scope, Effect.sync(() => server.off("request", handler)))
        }),
    })
  })

/** `make` as a layer: the `HttpServer` service, for `HttpRouter.serve` or `HttpServer.serve`. */
export const layer = (options: StackHttpServerOptions): Layer.Layer<HttpServer.HttpServer, StackError, Stack> =>
  Layer.effect(HttpServer.HttpServer, make(options))
