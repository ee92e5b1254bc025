/**
 * Our TCP on an AF_PACKET socket (the hvt target's NIC), with the kernel's
 * TCP at the other end of a veth pair, each side in a namespace the test
 * creates: 8 MiB sent by the kernel come back intact through our echo
 * server, with the socket's offload (virtio-net headers: our segments cross
 * up to 64 KiB at a time, the kernel's merged by GRO) and without (one
 * MTU-sized frame per segment). Skipped, with the reason printed, like the
 * other kernel tests, and without ethtool.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { spawnSync } from "node:child_process"
import { join } from "node:path"
import { ethtoolSkipReason, kernelRxPackets, scratchNamespace, vethPair } from "../netif/netns.ts"
import { spawnIn, spawnScoped, tcpKernelSkipReason } from "./kernel.ts"

const reason = tcpKernelSkipReason() ?? ethtoolSkipReason()
if (reason !== undefined) console.log(`skipping TCP over AF_PACKET: ${reason}`)

const OURS = "10.77.8.2"
const KERNEL_SIDE = "10.77.8.1"
const SIZE = 8 * 1024 * 1024

/** Sends `size` random bytes while reading the echo to its end; prints the SHA-256 of both and the bytes read. */
const CLIENT = `
import hashlib, json, os, socket, sys, threading
data = os.urandom(int(sys.argv[3]))
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=60)
def send():
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
sender = threading.Thread(target=send)
sender.start()
h, n = hashlib.sha256(), 0
while True:
    chunk = s.recv(1 << 20)
    if not chunk:
        break
    h.update(chunk)
    n += len(chunk)
sender.join()
print(json.dumps({"sent": hashlib.sha256(data).hexdigest(), "received": h.hexdigest(), "bytes": n}), flush=True)
`

describe.skipIf(reason !== undefined)("TCP over AF_PACKET with the kernel (root, network namespaces)", () => {
  it.live.each([true, false])("8 MiB echoed intact (offload: %s)", (offload) =>
    Effect.gen(function* () {
      const { ns: ours } = yield* scratchNamespace
      const { ns: kernel } = yield* scratchNamespace
      vethPair({ ns: ours }, { ns: kernel, address: KERNEL_SIDE })
      spawnSync("ip", ["netns", "exec", ours, "ethtool", "-K", "va", "gro", "on"])
      // A veth hands its peer the kernel's TCP segments unsegmented and unsummed (up to 64 KiB, checksums partial):
      // without offload our socket could not take them, so the kernel side segments and sums them first, as for a wire.
      if (!offload) spawnSync("ip", ["netns", "exec", kernel, "ethtool", "-K", "vb", "tx", "off", "tso", "off", "gso", "off"])

      const fixture = join(import.meta.dirname, "..", "netif", "fixtures", "packet-echo.ts")
      const server = yield* spawnScoped("ip", ["netns", "exec", ours, process.execPath, fixture, "va", `${OURS}/24`, "5050", offload ? "1" : "0"])
      yield* server.printed("ready").pipe(Effect.timeout("20 seconds"))
      const framesBefore = kernelRxPackets(kernel, "vb")
      const client = yield* spawnIn(kernel, "python3", ["-c", CLIENT, OURS, "5050", String(SIZE)])
      const report = JSON.parse((yield* client.exited.pipe(Effect.timeout("90 seconds"))).trim()) as
        { sent: string; received: string; bytes: number }
      expect(report.bytes).toBe(SIZE)
      expect(report.received).toBe(report.sent)
      // With offload our segments cross the veth several MSS at a time; without, one per MSS.
      const frames = kernelRxPackets(kernel, "vb") - framesBefore
      if (offload) expect(frames).toBeLessThan(SIZE / 1448 / 4)
      else expect(frames).toBeGreaterThanOrEqual(SIZE / 1448)
    }).pipe(Effect.scoped), 120_000)
})
