/**
 * ECN (RFC 3168) with the Linux kernel, in a namespace the test creates: we
 * ask for ECN and the kernel, at its default `tcp_ecn=2`, agrees and counts
 * our data as ECN-capable (`IpExtInECT0Pkts`); the kernel, set to ask
 * (`tcp_ecn=1`), gets our agreement at our default; and with an nftables
 * rule playing a congested router (this kernel has no AQM qdisc) that marks
 * some of our packets Congestion Experienced, the kernel echoes the marks
 * and we halve our window without retransmitting. Skipped, with the reason
 * printed, like the other kernel tests (the last also without `nft`).
 */
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect } from "effect"
import { createHash, randomBytes } from "node:crypto"
import { ip, sysctl, toolSkipReason } from "../netif/netns.ts"
import { connectionOf, directOnTap, drain, KERNEL, kernelCounter, peer, peerReport, tcpKernelSkipReason, US } from "./kernel.ts"

const reason = tcpKernelSkipReason()
if (reason !== undefined) console.log(`skipping the ECN tests: ${reason}`)

const SIZE = 1024 * 1024

const nftReason = reason ?? toolSkipReason("nft", "nftables")
if (reason === undefined && nftReason !== undefined) console.log(`skipping the ECN test with marks: ${nftReason}`)

/**
 * Marks one in `every` ECN-capable TCP packets arriving in namespace `ns`
 * Congestion Experienced, as a congested router would; returns a reader of
 * how many it marked.
 */
const markCongestion = (ns: string, every: number): () => number => {
  const nft = (...args: Array<string>) => ip("netns", "exec", ns, "nft", ...args)
  nft("add", "table", "ip", "euk")
  nft("add", "chain", "ip", "euk", "congested", "{ type filter hook prerouting priority 0; }")
  nft("add", "rule", "ip", "euk", "congested", "ip", "protocol", "tcp", "ip", "ecn", "ect0", "numgen", "random", "mod", String(every), "0", "counter", "ip", "ecn", "set", "ce")
  return () => Number(/counter packets (\d+)/.exec(nft("list", "chain", "ip", "euk", "congested"))?.[1] ?? Number.NaN)
}

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

describe.skipIf(nftReason !== undefined)("ECN with the kernel behind a congested router (root, network namespace, nftables)", () => {
  it.live("the kernel echoes the marks, and we halve our window without retransmitting", () =>
    Effect.gen(function* () {
      const { ns, stack, engine } = yield* directOnTap({ config: { ecn: "on" } }, false)
      const marked = markCongestion(ns, 50)
      const sink = yield* peer(ns, "sink-listen", KERNEL, 5062)
      yield* sink.printed("ready")
      const data = randomBytes(4 * SIZE)
      yield* Effect.scoped(Effect.gen(function* () {
        const flow = yield* stack.tcp.connect({ address: KERNEL, port: 5062 })
        const c = connectionOf(engine, flow)
        yield* flow.write(data)
        yield* flow.shutdown
        const report = yield* peerReport(sink)
        expect(report.bytes).toBe(4 * SIZE)
        expect(report.sha256).toBe(createHash("sha256").update(data).digest("hex"))
        // Each mark is answered by at most one cut: our CWR ends the kernel's echo (else every window would be cut).
        const marks = marked()
        expect(marks).toBeGreaterThan(0)
        expect(c.ecnReductions).toBeGreaterThan(0)
        expect(c.ecnReductions).toBeLessThanOrEqual(marks)
        // Nothing was lost: any retransmission is a tail loss probe a late ACK let out, not a repair.
        expect(c.retransmissions).toBe(c.lossProbes)
        console.log(`${marks} packets marked, ${c.ecnReductions} window cuts, ${c.retransmissions} retransmissions`)
      }))
    }).pipe(Effect.scoped), 60_000)
})
