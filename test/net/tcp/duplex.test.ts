import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Stream } from "effect"
import * as http from "node:http"
import { toDuplex } from "../../../src/net/FlowDuplex.ts"
import { makeTcp } from "../../../src/net/tcp/TcpLayer.ts"
import { toSink } from "../../../src/net/FlowSink.ts"
import { linked } from "./linked.ts"
import { httpRequest } from "./httpRequest.ts"
import { pattern } from "./transfer.ts"

const stacks = Effect.gen(function* () {
  const [ipA, ipB] = yield* linked(9)
  return { a: yield* makeTcp(ipA), b: yield* makeTcp(ipB) }
})

describe("Node interop", () => {
  it.live("serves node:http over our TCP, both ends as Duplex streams", () =>
    Effect.gen(function* () {
      const { a, b } = yield* stacks
      const big = Buffer.from(pattern(300_000, 3))
      const server = http.createServer((req, res) => {
        res.setHeader("content-type", "application/octet-stream")
        res.end(req.url === "/big" ? big : `hello ${req.url}`)
      })
      yield* Effect.addFinalizer(() => Effect.sync(() => server.close()))
      yield* b.listen(80, (flow) => Effect.callback<void>((resume) => {
        const socket = toDuplex(flow)
        socket.on("close", () => resume(Effect.void))
        server.emit("connection", socket)
      }))
      const get = (path: string) => httpRequest(a, { address: "10.0.0.2", port: 80 }, path)
      const small = yield* get("/effect")
      expect(small.status).toBe(200)
      expect(small.body.toString()).toBe("hello /effect")
      const large = yield* get("/big")
      expect(large.body.equals(big)).toBe(true)
    }).pipe(Effect.scoped))

  it.live("pipes a Stream into a flow through toSink", () =>
    Effect.gen(function* () {
      const { a, b } = yield* stacks
      const received = yield* Deferred.make<void>()
      let total = 0
      yield* b.listen(81, (flow) => Stream.runForEach(flow.stream, (chunk) => Effect.sync(() => {
        total += chunk.length
      })).pipe(Effect.andThen(Deferred.succeed(received, undefined)), Effect.orDie))
      const flow = yield* a.connect({ address: "10.0.0.2", port: 81 })
      yield* Stream.run(Stream.fromIterable([...Array(100)].map(() => new Uint8Array(1000))), toSink(flow))
      yield* flow.shutdown
      yield* Deferred.await(received)
      expect(total).toBe(100_000)
    }).pipe(Effect.scoped))
})
