/**
 * Effect's HTTP server (`HttpRouter.serve`) over the `Stack`, its
 * `HttpServer` from `StackHttpServer`: on our direct stack (two stacks on the
 * in-memory switch, requests from `node:http`'s client over the other one),
 * and on the socket stack (requests from Node's `fetch` over the host's TCP).
 */
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Exit, Layer, Option, Schedule, Scope, Stream } from "effect"
import { HttpRouter, HttpServer, HttpServerResponse } from "effect/http"
import { Switch } from "../../../src/net/NetifSwitch.ts"
import { layerSocket } from "../../../src/net/socket/SocketStack.ts"
import { Stack } from "../../../src/net/Stack.ts"
import * as StackHttpServer from "../../../src/net/StackHttpServer.ts"
import { freePort } from "../../freePort.ts"
import { stackOn } from "../direct/stacks.ts"
import { httpRequest } from "../tcp/httpRequest.ts"
import { pattern } from "../tcp/transfer.ts"

const SERVER = { address: "10.0.0.3", port: 8080 }

/** Responses of `/endless` still being streamed. */
const endless = { streaming: 0 }

/** The routes under test: text, an echo of the request body, streamed bodies (one that never ends). */
const routes = Layer.mergeAll(
  HttpRouter.add("GET", "/hello", HttpServerResponse.text("hello from Effect over our TCP")),
  HttpRouter.add("POST", "/echo", (request) =>
    Effect.map(request.arrayBuffer, (body) => HttpServerResponse.uint8Array(new Uint8Array(body)))),
  HttpRouter.add("GET", "/stream", HttpServerResponse.stream(
    Stream.fromIterable([0, 1, 2, 3].map((n) => new TextEncoder().encode(`part ${n};`))),
  )),
  HttpRouter.add("GET", "/endless", Effect.sync(() => {
    endless.streaming++
    return HttpServerResponse.stream(Stream.fromEffectSchedule(Effect.succeed(new TextEncoder().encode("tick;")), Schedule.spaced("5 millis")).pipe(
      Stream.ensuring(Effect.sync(() => endless.streaming--)),
    ))
  })),
  HttpRouter.add("GET", "/where", (request) => Effect.succeed(HttpServerResponse.text(Option.getOrElse(request.remoteAddress, () => "unknown")))),
)

/** Two direct stacks on one switch, and the server app served on the second, in `scope`. */
const setUp = (scope: Scope.Scope) =>
  Effect.gen(function* () {
    const sw = yield* Switch.make()
    const client = yield* stackOn(sw, { cidr: "10.0.0.2/24" })
    const server = yield* stackOn(sw, { cidr: SERVER.address + "/24" })
    const served = HttpRouter.serve(routes, { disableLogger: true }).pipe(
      Layer.provideMerge(StackHttpServer.layer({ port: SERVER.port })),
      Layer.provide(Layer.succeed(Stack, server.stack)),
    )
    const context = yield* Layer.buildWithScope(served, scope)
    return { client: client.stack, address: Context.get(context, HttpServer.HttpServer).address }
  })

describe("StackHttpServer: Effect's HttpServer over our TCP", () => {
  it.live("answers routes, echoes a 300 KB body, streams a response and 404s the rest", () =>
    Effect.gen(function* () {
      const { client, address } = yield* setUp(yield* Effect.scope)
      expect(HttpServer.formatAddress(address)).toBe(`http://${SERVER.address}:${SERVER.port}`)
      const hello = yield* httpRequest(client.tcp, SERVER, "/hello")
      expect(hello.status).toBe(200)
      expect(hello.headers["content-type"]).toMatch(/^text\/plain/)
      expect(hello.body.toString()).toBe("hello from Effect over our TCP")
      const body = pattern(300_000, 7)
      const echo = yield* httpRequest(client.tcp, SERVER, "/echo", { method: "POST", body })
      expect(echo.status).toBe(200)
      expect(echo.body.equals(Buffer.from(body))).toBe(true)
      const streamed = yield* httpRequest(client.tcp, SERVER, "/stream")
      expect(streamed.body.toString()).toBe("part 0;part 1;part 2;part 3;")
      const where = yield* httpRequest(client.tcp, SERVER, "/where")
      expect(where.body.toString()).toBe("10.0.0.2")
      const missing = yield* httpRequest(client.tcp, SERVER, "/nope")
      expect(missing.status).toBe(404)
    }).pipe(Effect.scoped))

  it.live("interrupts a streaming response when the client goes away", () =>
    Effect.gen(function* () {
      const { client } = yield* setUp(yield* Effect.scope)
      const flow = yield* client.tcp.connect(SERVER)
      yield* flow.write(new TextEncoder().encode("GET /endless HTTP/1.1\r\nhost: unikernel\r\n\r\n"))
      let received = ""
      while (received.split("tick;").length < 4) received += new TextDecoder().decode((yield* flow.read) ?? new Uint8Array())
      expect(received).toMatch(/^HTTP\/1\.1 200 OK/)
      expect(endless.streaming).toBe(1)
      yield* flow.close
      while (endless.streaming > 0) yield* Effect.sleep("5 millis")
      expect(endless.streaming).toBe(0)
    }).pipe(Effect.scoped, Effect.timeout("5 seconds")))

  it.live("stops accepting connections when its scope closes", () =>
    Effect.gen(function* () {
      const scope = yield* Scope.make()
      const { client } = yield* setUp(scope)
      expect((yield* httpRequest(client.tcp, SERVER, "/hello")).status).toBe(200)
      yield* Scope.close(scope, Exit.void)
      const refused = yield* Effect.flip(httpRequest(client.tcp, SERVER, "/hello"))
      expect(refused).toMatchObject({ _tag: "TcpRefused" })
    }).pipe(Effect.scoped))

  it.live("serves the same routes on the socket stack, to Node's fetch", () =>
    Effect.gen(function* () {
      const port = yield* Effect.promise(freePort)
      yield* Layer.build(HttpRouter.serve(routes, { disableLogger: true }).pipe(
        Layer.provide(StackHttpServer.layer({ port })),
        Layer.provide(layerSocket({ address: "127.0.0.1" })),
      ))
      const body = pattern(100_000, 5)
      const echoed = yield* Effect.promise(() =>
        fetch(`http://127.0.0.1:${port}/echo`, { method: "POST", body }).then((r) => r.arrayBuffer()))
      expect(Buffer.from(echoed).equals(Buffer.from(body))).toBe(true)
      const hello = yield* Effect.promise(() => fetch(`http://127.0.0.1:${port}/hello`).then((r) => r.text()))
      expect(hello).toBe("hello from Effect over our TCP")
    }).pipe(Effect.scoped))
})
