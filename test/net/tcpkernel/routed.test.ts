/**
 * With the TAP's offload, the kernel completes the TCP and UDP checksums of
 * what we send. A segment it delivers to its own sockets is trusted as it
 * is, so only traffic it routes on shows whether the completed sums are
 * right: here our stack sends through the kernel's namespace (forwarding
 * on) over a veth whose transmit checksumming is off, so the kernel sums
 * every segment in software, to a second namespace whose sockets check
 * them. A TCP transfer arrives intact (SHA-256), and so do a UDP datagram
 * and a fragmented one. Skipped, with the reason printed, like the other
 * kernel tests, and without ethtool.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { spawnSync } from "node:child_process"
import { createHash, randomBytes } from "node:crypto"
import { ethtoolSkipReason, ip, scratchNamespace, sysctl, vethPair } from "../netif/netns.ts"
import { directOnTap, KERNEL, peer, peerReport, spawnIn, tcpKernelSkipReason } from "./kernel.ts"

const reason = tcpKernelSkipReason() ?? ethtoolSkipReason()
if (reason !== undefined) console.log(`skipping the routed checksum test: ${reason}`)

/** The kernel's address on the veth, and the far namespace's. */
const ROUTER = "10.77.6.1"
const FAR = "10.77.6.2"

/** Receives `count` UDP datagrams on `host port`, printing `length sha256` for each. */
const UDP_RECEIVER = `
import hashlib, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
s.settimeout(20)
print("ready", flush=True)
for _ in range(int(sys.argv[3])):
    data, _ = s.recvfrom(65535)
    print(len(data), hashlib.sha256(data).hexdigest(), flush=True)
`

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex")

describe.skipIf(reason !== undefined)("checksums the kernel completes for us (root, network namespaces)", () => {
  it.live("hold when the kernel routes our TCP and UDP on and sums them in software", () =>
    Effect.gen(function* () {
      const { ns, stack } = yield* directOnTap({}, true, { gateway: KERNEL })
      const { ns: far } = yield* scratchNamespace
      vethPair({ ns, address: ROUTER }, { ns: far, address: FAR })
      ip("-n", far, "route", "add", "default", "via", ROUTER)
      const inNs = (...args: Array<string>) => spawnSync("ip", ["netns", "exec", ns, ...args], { encoding: "utf8" })
      sysctl(ns, "net.ipv4.ip_forward=1")
      inNs("ethtool", "-K", "va", "tx", "off")
      expect(inNs("ethtool", "-k", "va").stdout).toMatch(/tx-checksumming: off/)

      const sink = yield* peer(far, "sink-listen", FAR, 5040)
      yield* sink.printed("ready")
      const data = randomBytes(4 * 1024 * 1024)
      yield* Effect.scoped(Effect.gen(function* () {
        const flow = yield* stack.tcp.connect({ address: FAR, port: 5040 })
        for (let at = 0; at < data.length; at += 256 * 1024) yield* flow.write(data.subarray(at, at + 256 * 1024))
        yield* flow.shutdown
        const report = yield* peerReport(sink)
        expect(report).toEqual({ bytes: data.length, sha256: sha256(data) })
      }).pipe(Effect.timeout("60 seconds")))

      const receiver = yield* spawnIn(far, "python3", ["-c", UDP_RECEIVER, FAR, "5041", "2"])
      yield* receiver.printed("ready")
      const whole = randomBytes(1000) // one frame: its checksum completed by the kernel
      const fragmented = randomBytes(3000) // fragments: summed by our stack
      yield* stack.udp.send({ address: FAR, port: 5041 }, whole)
      yield* stack.udp.send({ address: FAR, port: 5041 }, fragmented)
      const lines = (yield* receiver.exited.pipe(Effect.timeout("30 seconds"))).trim().split("\n").slice(1)
      expect(lines).toEqual([`1000 ${sha256(whole)}`, `3000 ${sha256(fragmented)}`])
    }).pipe(Effect.scoped), 120_000)
})
