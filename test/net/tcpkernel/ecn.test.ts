/**
 * ECN (RFC 3168) with the Linux kernel, in a namespace the test creates.
 * Nothing here can mark packets Congestion Experienced (the kernel has no
 * AQM qdisc), so the answer to a mark is tested in simulation
 * (`tcp/ecn.test.ts`). Here: we ask for ECN and the kernel, at its default
 * `tcp_ecn=2`, agrees and counts our data as ECN-capable
 * (`IpExtInECT0Pkts`); and the kernel, set to ask (`tcp_ecn=1`), gets our
 * agreement at our default. Skipped, with the reason printed, like the other
 * kernel tests.
 */
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect } from "effect"
import { randomBytes } from "node:crypto"
import { sysctl } from "../netif/netns.ts"
import { connectionOf, directOnTap, drain, KERNEL, kernelCounter, peer, peerReport, tcpKernelSkipReason, US } from "./kernel.ts"

const reason = tcpKernelSkipReason()
if (reason !== undefined) console.log(`skipping the ECN tests: ${reason}`)

const SIZE = 1024 * 1024

describe.skipIf(reason !== undefined)("ECN with the kernel (root, network namespace)", () => {
  it.live("we ask, the kernel agrees, and our data reaches it ECN-capable", () =>
    Effect.gen(function* () {
      const { ns, stack, engine } = yield* directOnTap({ config: { ecn: "on" } }, false)
      const sink = yield* peer(ns, "sink-listen", KERNEL, 5060)
      yield* sink.printed("ready")
      const before = kernelCounter(ns, "IpExtInECT0Pkts")
      const data = randomBytes(SIZE)
      yield* Effect.scoped(Effect.gen(function* () {
        const flow = yield* stack.tcp.connect({ address: KERNEL, port: 5060 })
        const c = connectionOf(engine, flow)
        expect(c.ecnOk).toBe(true)
        yield* flow.write(data)
        yield* flow.shutdown
        expect((yield* peerReport(sink)).bytes).toBe(SIZE)
      }))
      // One ECN-capable packet per data segment (MSS 1448), and none from the handshake or pure ACKs beyond that.
      expect(kernelCounter(ns, "IpExtInECT0Pkts") - before).toBeGreaterThanOrEqual(Math.ceil(SIZE / 1448))
    }).pipe(Effect.scoped), 60_000)

  it.live("the kernel asks, and we agree at our default", () =>
    Effect.gen(function* () {
      const { ns, stack, engine } = yield* directOnTap({}, false)
      sysctl(ns, "net.ipv4.tcp_ecn=1")
      const accepted = yield* Deferred.make<boolean>()
      yield* stack.tcp.listen(5061, (flow) =>
        Effect.gen(function* () {
          yield* Deferred.succeed(accepted, connectionOf(engine, flow).ecnOk)
          yield* drain(flow)
        }).pipe(Effect.orDie))
      const source = yield* peer(ns, "source-connect", US, 5061, SIZE)
      expect(yield* Deferred.await(accepted)).toBe(true)
      yield* peerReport(source)
    }).pipe(Effect.scoped), 60_000)
})
