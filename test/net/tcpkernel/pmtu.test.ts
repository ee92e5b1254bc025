/**
 * Path MTU discovery (RFC 1191) through the kernel as a router: our stack
 * sends to a far namespace over a hop of MTU 1280 (the router's side of the
 * link; the far host, at 1500, announces an MSS that does not fit). Our TCP packets
 * carry Don't Fragment, so the kernel answers the first one too large with
 * an ICMP "fragmentation needed" and drops it, and our segments shrink to
 * fit. The transfer arrives intact (SHA-256) and the router fragments
 * nothing (without Don't Fragment it fragments every large segment). With
 * the TAP's segmentation offload and without. Skipped, with the reason
 * printed, like the other kernel tests.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { createHash, randomBytes } from "node:crypto"
import { ip, scratchNamespace, sysctl, vethPair } from "../netif/netns.ts"
import { connectionOf, directOnTap, KERNEL, kernelCounter, peer, peerReport, tcpKernelSkipReason } from "./kernel.ts"

const reason = tcpKernelSkipReason()
if (reason !== undefined) console.log(`skipping the path MTU test: ${reason}`)

/** The router's address on the narrow link, and the far namespace's. */
const ROUTER = "10.77.7.1"
const FAR = "10.77.7.2"
const NARROW_MTU = 1280
const SIZE = 4 * 1024 * 1024
const CHUNK = 256 * 1024

describe.skipIf(reason !== undefined)("path MTU discovery through a kernel router (root, network namespaces)", () => {
  it.live.each([false, true])("shrinks our segments to a 1280-byte hop, which fragments nothing (TAP offload: %s)", (offload) =>
    Effect.gen(function* () {
      const { ns, stack, engine } = yield* directOnTap({}, offload, { gateway: KERNEL })
      const { ns: far } = yield* scratchNamespace
      vethPair({ ns, address: ROUTER }, { ns: far, address: FAR })
      // Only the router's side is narrow: the far host announces its MSS for 1500 bytes, so only path MTU discovery finds the hop.
      ip("-n", ns, "link", "set", "va", "mtu", String(NARROW_MTU))
      ip("-n", far, "route", "add", "default", "via", ROUTER)
      sysctl(ns, "net.ipv4.ip_forward=1")

      const sink = yield* peer(far, "sink-listen", FAR, 5050)
      yield* sink.printed("ready")
      const data = randomBytes(SIZE)
      const fragmentsBefore = kernelCounter(ns, "IpFragCreates")
      yield* Effect.scoped(Effect.gen(function* () {
        const flow = yield* stack.tcp.connect({ address: FAR, port: 5050 })
        const c = connectionOf(engine, flow)
        for (let at = 0; at < SIZE; at += CHUNK) yield* flow.write(data.subarray(at, at + CHUNK))
        yield* flow.shutdown
        const report = yield* peerReport(sink)
        expect(report).toEqual({ bytes: SIZE, sha256: createHash("sha256").update(data).digest("hex") })
        expect(c.sndMss).toBe(NARROW_MTU - 40 - 12) // IPv4, TCP and timestamps
      }).pipe(Effect.timeout("60 seconds")))
      expect(kernelCounter(ns, "IpFragCreates") - fragmentsBefore).toBe(0)
    }).pipe(Effect.scoped), 90_000)
})
