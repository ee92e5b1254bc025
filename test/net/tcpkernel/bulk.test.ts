/**
 * 100 MiB each way between our TCP and the kernel's over a TAP, in a
 * namespace the test creates, checked by SHA-256: a Python peer in the
 * namespace sends random bytes to our listener, then receives ours; with
 * the TAP's segmentation offload, with the addon's own ("software"), with
 * our IPv4's software segmentation instead, and with none of them. The rates are printed. Skipped, with the reason
 * printed, without root, /dev/net/tun, the addon, python3, nc or sha256sum.
 */
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect } from "effect"
import { createHash, randomBytes } from "node:crypto"
import { kernelRxPackets } from "../netif/netns.ts"
import { directOnTap, drain, KERNEL, peer, peerReport, tcpKernelSkipReason, US } from "./kernel.ts"

const reason = tcpKernelSkipReason()
if (reason !== undefined) console.log(`skipping bulk TCP tests against the kernel: ${reason}`)

const SIZE = 100 * 1024 * 1024
const CHUNK = 256 * 1024

const rate = (bytes: number, ms: number) => `${(bytes / 1e6 / (ms / 1000)).toFixed(0)} MB/s`

describe.skipIf(reason !== undefined)("100 MiB each way with the kernel (root, network namespace)", () => {
  it.live.each([
    { segmentation: "TAP offload", offload: true, softwareSegmentation: true },
    { segmentation: "addon", offload: "software" as const, softwareSegmentation: true },
    { segmentation: "software", offload: false, softwareSegmentation: true },
    { segmentation: "none", offload: false, softwareSegmentation: false },
  ])("kernel → us, then us → kernel, SHA-256 equal (segmentation: $segmentation)", ({ offload, softwareSegmentation }) =>
    Effect.gen(function* () {
      const { ns, ifname, stack, ip } = yield* directOnTap({}, offload, { softwareSegmentation })

      const received = yield* Deferred.make<{ bytes: number; sha256: string; ms: number }>()
      yield* stack.tcp.listen(5030, (flow) =>
        Effect.gen(function* () {
          const hash = createHash("sha256")
          const start = performance.now()
          const bytes = yield* drain(flow, (chunk) => hash.update(chunk))
          yield* Deferred.succeed(received, { bytes, sha256: hash.digest("hex"), ms: performance.now() - start })
        }).pipe(Effect.orDie))
      const source = yield* peer(ns, "source-connect", US, 5030, SIZE)
      const ours = yield* Deferred.await(received).pipe(Effect.timeout("90 seconds"))
      const theirs = yield* peerReport(source)
      console.log(`kernel → us: ${ours.bytes} bytes, ${rate(ours.bytes, ours.ms)}`)
      expect(ours.bytes).toBe(SIZE)
      expect(ours.sha256).toBe(theirs.sha256)

      const data = randomBytes(SIZE)
      const sink = yield* peer(ns, "sink-listen", KERNEL, 5031)
      yield* sink.printed("ready")
      const start = performance.now()
      const framesBefore = kernelRxPackets(ns, ifname)
      yield* Effect.scoped(Effect.gen(function* () {
        const flow = yield* stack.tcp.connect({ address: KERNEL, port: 5031 })
        for (let at = 0; at < SIZE; at += CHUNK) yield* flow.write(data.subarray(at, at + CHUNK))
        yield* flow.shutdown
        const report = yield* peerReport(sink).pipe(Effect.timeout("90 seconds"))
        console.log(`us → kernel: ${report.bytes} bytes, ${rate(report.bytes, performance.now() - start)}`)
        expect(report.bytes).toBe(SIZE)
        expect(report.sha256).toBe(createHash("sha256").update(data).digest("hex"))
      }))
      // With the TAP's offload our segments cross several MSS at a time (the kernel cuts them); otherwise one per
      // MSS, cut from larger packets by the addon, or by our IPv4's software segmentation when it is on.
      const frames = kernelRxPackets(ns, ifname) - framesBefore
      const cut = (yield* ip.stats).ip.segmentsCut
      if (offload === true) expect(frames).toBeLessThan(SIZE / 1448 / 4)
      else expect(frames).toBeGreaterThanOrEqual(SIZE / 1448)
      if (offload !== false || !softwareSegmentation) expect(cut).toBe(0)
      else expect(cut).toBeGreaterThan(SIZE / 1448 / 2)
    }).pipe(Effect.scoped), 240_000)
})
