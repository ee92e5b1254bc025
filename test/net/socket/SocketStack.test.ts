/**
 * The socket stack (`--net socket`) over the host's loopback: UDP and TCP
 * through the `Stack` API, with typed errors.
 */
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Queue, Stream } from "effect"
import { layerSocket } from "../../../src/net/socket/SocketStack.ts"
import { Stack } from "../../../src/net/Stack.ts"
import { freePort as freeTcpPort } from "../../freePort.ts"
import { readMixed } from "../flowReads.ts"
import type { Datagram } from "../../../src/net/Stack.ts"

const bytes = (text: string) => new TextEncoder().encode(text)
const text = (data: Uint8Array) => new TextDecoder().decode(data)

/** A free TCP/UDP port on loopback, as the kernel picks it. */
const freePort = Effect.promise(freeTcpPort)

describe("socket stack", () => {
  it.live("delivers UDP datagrams to a listener, with their source and a chosen source port", () =>
    Effect.gen(function* () {
      const stack = yield* Stack
      const [port, replyPort] = [yield* freePort, yield* freePort]
      const received = yield* Queue.unbounded<Datagram>()
      yield* stack.udp.listen(port, (d) => Queue.offer(received, d))
      yield* stack.udp.listen(replyPort, (d) => Queue.offer(received, d))
      yield* stack.udp.send({ address: "127.0.0.1", port }, bytes("hello udp world"), { sourcePort: replyPort })
      const first = yield* Queue.take(received)
      expect(text(first.payload)).toBe("hello udp world")
      expect(first.source).toEqual({ address: "127.0.0.1", port: replyPort })
      expect(first.destination.port).toBe(port)
      yield* stack.udp.send(first.source, bytes("pong"))
      const second = yield* Queue.take(received)
      expect(text(second.payload)).toBe("pong")
      expect(second.destination.port).toBe(replyPort)
    }).pipe(Effect.scoped, Effect.provide(layerSocket({ address: "127.0.0.1" }))))

  it.live("accepts TCP connections, reads to the end of stream and writes back", () =>
    Effect.gen(function* () {
      const stack = yield* Stack
      const port = yield* freePort
      const served = yield* Deferred.make<string>()
      yield* stack.tcp.listen(port, (flow) =>
        Effect.gen(function* () {
          const chunks = yield* Stream.runCollect(flow.stream)
          const all = chunks.map(text).join("")
          yield* flow.write(bytes(all.toUpperCase()))
          yield* Deferred.succeed(served, all)
        }).pipe(Effect.orDie))
      const flow = yield* stack.tcp.connect({ address: "127.0.0.1", port })
      expect(flow.remote).toEqual({ address: "127.0.0.1", port })
      yield* flow.writev([bytes("hello "), bytes("tcp "), bytes("world")])
      yield* flow.shutdown
      expect(yield* Deferred.await(served)).toBe("hello tcp world")
      const reply = yield* Stream.runCollect(flow.stream)
      expect(reply.map(text).join("")).toBe("HELLO TCP WORLD")
      expect(yield* flow.read).toBeUndefined()
    }).pipe(Effect.scoped, Effect.provide(layerSocket({ address: "127.0.0.1" }))))

  it.live("moves a megabyte through a slow reader intact", () =>
    Effect.gen(function* () {
      const stack = yield* Stack
      const port = yield* freePort
      const payload = Uint8Array.from({ length: 1 << 20 }, (_, i) => (i * 7) & 0xff)
      const total = yield* Deferred.make<Uint8Array>()
      yield* stack.tcp.listen(port, (flow) =>
        Stream.runCollect(flow.stream.pipe(Stream.tap(() => Effect.sleep("1 millis")))).pipe(
          Effect.flatMap((chunks) => {
            const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0))
            let offset = 0
            for (const c of chunks) {
              all.set(c, offset)
              offset += c.length
            }
            return Deferred.succeed(total, all)
          }),
          Effect.orDie,
        ))
      const flow = yield* stack.tcp.connect({ address: "127.0.0.1", port })
      for (let i = 0; i < payload.length; i += 65536) yield* flow.write(payload.subarray(i, i + 65536))
      yield* flow.shutdown
      expect(yield* Deferred.await(total)).toEqual(payload)
    }).pipe(Effect.scoped, Effect.provide(layerSocket({ address: "127.0.0.1" }))))

  it.live("readInto fills a small reused buffer, interleaved with read, losing nothing", () =>
    Effect.gen(function* () {
      const stack = yield* Stack
      const port = yield* freePort
      const payload = Uint8Array.from({ length: 300_000 }, (_, i) => (i * 13) & 0xff)
      const received = yield* Deferred.make<{ bytes: Buffer; filled: number }>()
      yield* stack.tcp.listen(port, (flow) => Effect.flatMap(readMixed(flow, 1000), (r) => Deferred.succeed(received, r)).pipe(Effect.orDie))
      const flow = yield* stack.tcp.connect({ address: "127.0.0.1", port })
      yield* flow.write(payload)
      yield* flow.shutdown
      const { bytes, filled } = yield* Deferred.await(received)
      expect(bytes.equals(Buffer.from(payload))).toBe(true)
      expect(filled).toBeGreaterThan(4) // every chunk from the socket is cut at the buffer's size
    }).pipe(Effect.scoped, Effect.provide(layerSocket({ address: "127.0.0.1" }))))

  it.live("gives typed errors: refused, port in use, bad address", () =>
    Effect.gen(function* () {
      const stack = yield* Stack
      const port = yield* freePort
      const refused = yield* Effect.flip(stack.tcp.connect({ address: "127.0.0.1", port }))
      expect(refused._tag).toBe("TcpRefused")
      yield* stack.udp.listen(port, () => Effect.void)
      const inUse = yield* Effect.flip(stack.udp.listen(port, () => Effect.void))
      expect(inUse._tag).toBe("StackPortUnavailable")
      expect(inUse.message).toContain(`udp port ${port} is unavailable: it is already in use`)
      const bad = yield* Effect.flip(stack.udp.send({ address: "10.0.0.300", port: 1 }, bytes("x")))
      expect(bad._tag).toBe("StackInvalidArgument")
      const badPort = yield* Effect.flip(stack.udp.send({ address: "127.0.0.1", port: 70000 }, bytes("x")))
      expect(badPort._tag).toBe("StackInvalidArgument")
    }).pipe(Effect.scoped, Effect.provide(layerSocket({ address: "127.0.0.1" }))))

  it.live("closes at once with connections accepted that no handler took yet", () =>
    Effect.gen(function* () {
      const stack = yield* Stack
      const port = yield* freePort
      yield* Effect.scoped(Effect.gen(function* () {
        yield* stack.tcp.listen(port, () => Effect.never)
        yield* stack.tcp.connect({ address: "127.0.0.1", port })
      })) // hung for good before: the server's close waited for the connection no handler had
    }).pipe(Effect.scoped, Effect.provide(layerSocket({ address: "127.0.0.1" }))), 10_000)

  it.live("releases its ports when the listener's scope closes", () =>
    Effect.gen(function* () {
      const stack = yield* Stack
      const port = yield* freePort
      yield* Effect.scoped(stack.tcp.listen(port, () => Effect.void))
      yield* Effect.scoped(stack.tcp.listen(port, () => Effect.void))
      yield* Effect.scoped(stack.udp.listen(port, () => Effect.void))
      yield* Effect.scoped(stack.udp.listen(port, () => Effect.void))
    }).pipe(Effect.provide(layerSocket({ address: "127.0.0.1" }))))
})
