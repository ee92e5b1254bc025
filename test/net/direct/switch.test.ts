/**
 * Two direct stacks on the in-memory switch, under `TestClock`: ARP, ping
 * and UDP (fragmented too), with and without seeded loss.
 */
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Fiber, Layer } from "effect"
import { TestClock } from "effect/testing"
import { layerDirectFromKeys } from "../../../src/net/direct/DirectStack.ts"
import { IpLayer } from "../../../src/net/direct/IpLayer.ts"
import { gatewayKey, ipv4Key } from "../../../src/net/keys.ts"
import { Switch } from "../../../src/net/NetifSwitch.ts"
import { Stack } from "../../../src/net/Stack.ts"
import { ipv4 } from "../../../src/net/wire/addr.ts"
import type { Datagram } from "../../../src/net/Stack.ts"
import { bytes, stackOn, text } from "./stacks.ts"

const A = { cidr: "10.0.0.2/24" }
const B = { cidr: "10.0.0.3/24" }

/** Runs `effect` in a fiber while virtual time passes, `seconds` in steps of 100 ms. */
const withTime = <A, E>(effect: Effect.Effect<A, E>, seconds: number) =>
  Effect.gen(function* () {
    const fiber = yield* Effect.forkChild(effect)
    for (let i = 0; i < seconds * 10; i++) yield* TestClock.adjust("100 millis")
    return yield* Fiber.join(fiber)
  })

describe("two direct stacks on the in-memory switch", () => {
  it.effect("resolve each other with ARP, ping, and exchange UDP datagrams both ways", () =>
    Effect.gen(function* () {
      const sw = yield* Switch.make()
      const a = yield* stackOn(sw, A)
      const b = yield* stackOn(sw, B)
      expect(a.stack.addresses).toEqual(["10.0.0.2"])

      const pinged = yield* withTime(a.ping.ping("10.0.0.3", { count: 3 }), 4)
      expect(pinged).toMatchObject({ destination: "10.0.0.3", sent: 3, received: 3 })
      expect(pinged.rtts).toHaveLength(3)

      const atA: Array<Datagram> = []
      yield* b.stack.udp.listen(7, (d) => b.stack.udp.send(d.source, d.payload, { sourcePort: 7 }).pipe(Effect.orDie))
      yield* a.stack.udp.listen(5000, (d) => Effect.sync(() => atA.push(d)))
      yield* a.stack.udp.send({ address: "10.0.0.3", port: 7 }, bytes("hello"), { sourcePort: 5000 })
      yield* withTime(Effect.void, 1)
      expect(atA.map((d) => text(d.payload))).toEqual(["hello"])
      expect(atA[0]).toMatchObject({ source: { address: "10.0.0.3", port: 7 }, destination: { address: "10.0.0.2", port: 5000 } })

      const big = Uint8Array.from({ length: 4000 }, (_, i) => (i * 7) & 0xff)
      yield* a.stack.udp.send({ address: "10.0.0.3", port: 7 }, big, { sourcePort: 5000 })
      yield* withTime(Effect.void, 1)
      expect(atA[1]?.payload).toEqual(big)
      const stats = yield* b.ip.stats
      expect(stats.reassembly.reassembled).toBe(1)
      expect(stats.ip.fragmentsSent).toBe(3)

      const bigPing = yield* withTime(a.ping.ping("10.0.0.3", { count: 1, size: 4000 }), 1)
      expect(bigPing.received).toBe(1)
    }))

  it.effect("sends from ephemeral ports when no source port is given", () =>
    Effect.gen(function* () {
      const sw = yield* Switch.make()
      const a = yield* stackOn(sw, A)
      const b = yield* stackOn(sw, B)
      const atB: Array<Datagram> = []
      yield* b.stack.udp.listen(9, (d) => Effect.sync(() => atB.push(d)))
      yield* withTime(a.stack.udp.send({ address: "10.0.0.3", port: 9 }, bytes("one")), 1)
      yield* a.stack.udp.send({ address: "10.0.0.3", port: 9 }, bytes("two"))
      yield* withTime(Effect.void, 1)
      expect(atB.map((d) => text(d.payload))).toEqual(["one", "two"])
      for (const d of atB) expect(d.source.port).toBeGreaterThanOrEqual(49152)
      expect(atB[0]!.source.port).not.toBe(atB[1]!.source.port)
    }))

  it.effect("recover from 30% loss: ARP retries, and lost pings are only missing", () =>
    Effect.gen(function* () {
      const sw = yield* Switch.make({ loss: 0.3, seed: 3 }) // with this seed the first two ARP exchanges are lost
      const a = yield* stackOn(sw, A)
      const b = yield* stackOn(sw, B)
      const atB: Array<string> = []
      yield* b.stack.udp.listen(9, (d) => Effect.sync(() => atB.push(text(d.payload))))
      yield* withTime(a.stack.udp.send({ address: "10.0.0.3", port: 9 }, bytes("through")), 4)
      expect((yield* a.ip.stats).arp.requestsSent).toBe(3)
      const result = yield* withTime(a.ping.ping("10.0.0.3", { count: 20, interval: "100 millis" }), 25)
      expect(result.sent).toBe(20)
      expect(result.received).toBeGreaterThan(5)
      expect(result.received).toBeLessThan(20)
      expect((yield* sw.stats).lost).toBeGreaterThan(0)
      expect(atB.length).toBeLessThanOrEqual(1)
    }))

  it.effect("a host that never answers ARP: StackUnreachable after 3 requests, 1 s apart", () =>
    Effect.gen(function* () {
      const sw = yield* Switch.make()
      const a = yield* stackOn(sw, A)
      const fiber = yield* Effect.forkChild(Effect.flip(a.stack.udp.send({ address: "10.0.0.99", port: 9 }, bytes("x"))))
      yield* TestClock.adjust("2900 millis")
      expect(fiber.pollUnsafe()).toBeUndefined()
      yield* TestClock.adjust("200 millis")
      const error = yield* Fiber.join(fiber)
      expect(error._tag).toBe("StackUnreachable")
      expect(error.message).toContain("10.0.0.99 is unreachable: no ARP reply from 10.0.0.99")
      expect((yield* a.ip.stats).arp).toMatchObject({ requestsSent: 3, timedOut: 1 })
      const pinged = yield* Effect.flip(withTime(a.ping.ping("10.0.0.99"), 4))
      expect(pinged._tag).toBe("StackUnreachable")
    }))

  it.effect("routes off-link traffic to the gateway, and refuses it without one", () =>
    Effect.gen(function* () {
      const sw = yield* Switch.make()
      const a = yield* stackOn(sw, A)
      const router = yield* stackOn(sw, { cidr: "10.0.0.1/24" })
      const viaGateway = yield* stackOn(sw, { cidr: "10.0.0.4/24", gateway: "10.0.0.1" })
      const noRoute = yield* Effect.flip(a.stack.udp.send({ address: "192.0.2.1", port: 9 }, bytes("x")))
      expect(noRoute.message).toContain("192.0.2.1 is unreachable: it is outside 10.0.0.0/24 and there is no gateway")
      yield* withTime(viaGateway.stack.udp.send({ address: "192.0.2.1", port: 9 }, bytes("x")), 1)
      const stats = yield* router.ip.stats
      expect(stats.ip.notForUs).toBe(1) // the datagram reached the router's MAC, addressed to 192.0.2.1
    }))

  it.effect("checks arguments and ports in use", () =>
    Effect.gen(function* () {
      const sw = yield* Switch.make()
      const a = yield* stackOn(sw, A)
      const send = (address: string, port: number, size: number, sourcePort?: number) =>
        Effect.flip(a.stack.udp.send({ address, port }, new Uint8Array(size), sourcePort === undefined ? {} : { sourcePort }))
      expect((yield* send("10.0.0.300", 9, 1)).message).toContain("10.0.0.300 is not an IPv4 address")
      expect((yield* send("10.0.0.3", 0, 1)).message).toContain("destination port 0 is not a port number")
      expect((yield* send("10.0.0.3", 9, 1, 70000)).message).toContain("source port 70000 is not a port number")
      expect((yield* send("10.0.0.3", 9, 65508)).message).toContain("65508 bytes is over IPv4's limit of 65507")
      yield* Effect.scoped(Effect.gen(function* () {
        yield* a.stack.udp.listen(53, () => Effect.void)
        const busy = yield* Effect.flip(a.stack.udp.listen(53, () => Effect.void))
        expect(busy._tag).toBe("StackPortUnavailable")
      }))
      yield* Effect.scoped(a.stack.udp.listen(53, () => Effect.void)) // released with its scope
      const bad = yield* Effect.flip(Effect.scoped(stackOn(sw, { cidr: "10.0.0.0/24" })))
      expect(bad.message).toContain("is the network or broadcast address")
    }))

  it.effect("takes its address and gateway from the --ipv4 and --ipv4-gateway keys", () =>
    Effect.gen(function* () {
      const sw = yield* Switch.make()
      const keys = Layer.mergeAll(Layer.succeed(ipv4Key, "10.9.0.5/16"), Layer.succeed(gatewayKey, "10.9.0.1"))
      const context = yield* Layer.build(layerDirectFromKeys.pipe(Layer.provide(Layer.mergeAll(sw.layer(), keys))))
      const ip = Context.get(context, IpLayer)
      expect(Context.get(context, Stack).addresses).toEqual(["10.9.0.5"])
      expect([ip.cidr.prefixLength, ip.gateway]).toEqual([16, ipv4(10, 9, 0, 1)])
      const bad = yield* Effect.flip(Layer.build(layerDirectFromKeys.pipe(
        Layer.provide(Layer.mergeAll(sw.layer(), Layer.succeed(gatewayKey, "192.168.1.1"))),
      )))
      expect(bad.message).toContain("--ipv4-gateway=192.168.1.1 is not another host of 10.0.0.2/24")
    }))

  it.effect("a slow handler fills only its port's bounded queue: drops are counted, the stack goes on", () =>
    Effect.gen(function* () {
      const sw = yield* Switch.make()
      const a = yield* stackOn(sw, A)
      const b = yield* stackOn(sw, B)
      yield* b.stack.udp.listen(9, () => Effect.sleep("1 hour"))
      yield* withTime(a.stack.udp.send({ address: "10.0.0.3", port: 9 }, bytes("first")), 1)
      for (let i = 0; i < 1100; i++) yield* a.stack.udp.send({ address: "10.0.0.3", port: 9 }, bytes("x"))
      const pinged = yield* withTime(a.ping.ping("10.0.0.3", { count: 1 }), 1)
      expect(pinged.received).toBe(1)
      const stats = yield* b.udp.stats
      expect(stats.received).toBe(1101)
      expect(stats.queueDrops).toBe(1101 - 1 - 1024) // one in the handler, 1024 waiting
    }))
})
