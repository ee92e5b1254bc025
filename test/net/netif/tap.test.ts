/**
 * The TAP backend against the real kernel, inside a throw-away network
 * namespace: the kernel's ARP and ping must reach us, and our hand-made ARP
 * and ICMP replies must make its ping succeed. Skipped (with the reason
 * printed) without root, /dev/net/tun, `ip`, `ping` or a built addon.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Queue, Stream } from "effect"
import type { Scope } from "effect"
import { execFile, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { join } from "node:path"
import { promisify } from "node:util"
import { Netif, formatMac } from "../../../src/net/Netif.ts"
import type { FrameBatch, NetifError } from "../../../src/net/Netif.ts"
import { layerPacket, layerTap } from "../../../src/net/NetifTap.ts"
import type { NetifTapOptions } from "../../../src/net/NetifTap.ts"
import { ip, kernelRxPackets, kernelSendsSpaced, kernelSkipReason, moveIntoNamespace, scratchNamespace } from "./netns.ts"
import { answerFor } from "./replies.ts"
import * as Ipv4Wire from "../../../src/net/wire/ipv4.ts"
import * as Udp from "../../../src/net/wire/udp.ts"

const run = promisify(execFile)
const reason = kernelSkipReason()
if (reason !== undefined) console.log(`skipping TAP tests: ${reason}`)

const KERNEL_CIDR = "10.77.0.1/24"
const OUR_IP = [10, 77, 0, 2]
const answer = answerFor(OUR_IP)

/** Python sending `count` UDP datagrams of 1000 bytes to port 9999 of `host`, `gap` seconds apart (argv[3], default 0), every byte of each `first` + its number (argv[4], default 0), modulo 256. */
const UDP_SENDER = `
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
gap = float(sys.argv[3]) if len(sys.argv) > 3 else 0
first = int(sys.argv[4]) if len(sys.argv) > 4 else 0
for i in range(int(sys.argv[2])):
    s.sendto(bytes([(first + i) % 256]) * 1000, (sys.argv[1], 9999))
    time.sleep(gap)
`

/** Whether `frame` is one of UDP_SENDER's datagrams (IPv4, UDP, to port 9999). */
const isDatagram = (frame: Uint8Array) =>
  frame[12] === 0x08 && frame[13] === 0x00 && frame[23] === 17 && frame[36] === 0x27 && frame[37] === 0x0f

/** The kernel in `ns` sends us `count` datagrams with UDP_SENDER, `gap` seconds apart, the bytes of each `first` + its number. */
const sendDatagrams = (ns: string, count: number, gap = 0, first = 0) =>
  Effect.tryPromise(() => run("ip", ["netns", "exec", ns, "python3", "-c", UDP_SENDER, OUR_IP.join("."), String(count), String(gap), String(first)]))

/** Waits until `reached()` holds, checking every 10 ms; fails after 5 s. */
const until = (reached: () => boolean) =>
  Effect.gen(function* () {
    while (!reached()) yield* Effect.sleep("10 millis")
  }).pipe(Effect.timeout("5 seconds"))

/**
 * `body` with a TAP opened with `options` in a fresh namespace (moved there
 * after it was opened: our fd keeps working), its kernel side KERNEL_CIDR;
 * our MAC is put in the kernel's neighbour table with `neighbour`.
 */
const onTap = <A, E>(
  options: Omit<NetifTapOptions, "name">,
  body: (netif: Netif["Service"], ns: string, tap: string) => Effect.Effect<A, E, Scope.Scope>,
  neighbour = false,
) =>
  Effect.scoped(Effect.gen(function* () {
    const { ns, ifname: tap } = yield* scratchNamespace
    return yield* Effect.gen(function* () {
      const netif = yield* Netif
      yield* moveIntoNamespace(ns, tap, KERNEL_CIDR)
      if (neighbour) ip("-n", ns, "neigh", "add", OUR_IP.join("."), "lladdr", formatMac(netif.mac), "dev", tap)
      return yield* body(netif, ns, tap)
    }).pipe(Effect.scoped, Effect.provide(layerTap({ ...options, name: tap })))
  }))

describe.skipIf(reason !== undefined)("TAP backend (root, network namespace)", () => {
  it.live("the kernel's ARP and pings reach us; our replies make its ping succeed", () =>
    onTap({}, (netif, ns, tap) =>
      Effect.gen(function* () {
        const seen: Array<number> = []
        yield* Effect.forkScoped(Stream.runForEach(netif.frames, (batch) => {
          const replies: Array<Uint8Array> = []
          for (const frame of batch) {
            seen.push(new DataView(frame.buffer, frame.byteOffset).getUint16(12))
            const reply = answer(frame, netif.mac)
            if (reply !== undefined) replies.push(reply)
          }
          return replies.length > 0 ? netif.writeBatch(replies) : Effect.void
        }))
        const before = kernelRxPackets(ns, tap)
        const ping = yield* Effect.tryPromise(() =>
          run("ip", ["netns", "exec", ns, "ping", "-c", "3", "-i", "0.2", "-W", "2", OUR_IP.join(".")])
        )
        expect(ping.stdout).toContain("3 received")
        expect(seen).toContain(0x0806)
        expect(seen.filter((t) => t === 0x0800).length).toBeGreaterThanOrEqual(3)
        expect(kernelRxPackets(ns, tap) - before).toBeGreaterThanOrEqual(4)
        expect(ip("-n", ns, "neigh", "show", OUR_IP.join("."))).toContain(formatMac(netif.mac))
        const stats = yield* netif.stats
        expect(stats.rxFrames).toBeGreaterThanOrEqual(4)
        expect(stats.txFrames).toBeGreaterThanOrEqual(4)
        expect(stats.txErrors + stats.rxErrors).toBe(0)

        const beforeBad = kernelRxPackets(ns, tap)
        const bad = yield* Effect.flip(netif.writeBatch([new Uint8Array(14 + netif.mtu + 1), new Uint8Array(60)]))
        expect(bad._tag).toBe("NetifWriteFailed")
        expect(bad.message).toContain(`exceeds MTU ${netif.mtu}`)
        expect(kernelRxPackets(ns, tap) - beforeBad).toBe(1) // the well-sized frame still went out
        expect((yield* netif.stats).txErrors).toBe(1)
      })))

  it.live.each([true, false])("the kernel's UDP arrives with a right checksum, marked verified only with offload (%s)", (offload) =>
    onTap({ offload }, (netif, ns) =>
      Effect.gen(function* () {
        const udp = yield* Queue.unbounded<{ readonly valid: boolean; readonly marked: boolean }>()
        yield* Effect.forkScoped(Stream.runForEach(netif.frames, (batch) =>
          Effect.sync(() => {
            batch.forEach((frame, i) => {
              if (frame[12] !== 0x08 || frame[13] !== 0x00 || frame[23] !== 17) return
              const packet = Ipv4Wire.parse(frame.subarray(14)) as Ipv4Wire.Packet
              const valid = Udp.parse(packet.payload, packet.source, packet.destination)._tag !== "Rejected"
              Queue.offerUnsafe(udp, { valid, marked: batch.checksumVerified?.[i] === 1 })
            })
          })))
        yield* sendDatagrams(ns, 3)
        const seen = yield* Effect.forEach([1, 2, 3], () => Queue.take(udp)).pipe(Effect.timeout("5 seconds"))
        expect(seen).toEqual([1, 2, 3].map(() => ({ valid: true, marked: offload })))
      }), true))

  it.live("a batch goes to the takeNow taker only when every earlier one was handed back, else to frames", () =>
    onTap({}, (netif, ns) =>
      Effect.gen(function* () {
        /** The first byte of each datagram to port 9999 in `batch`. */
        const datagrams = (batch: FrameBatch) =>
          batch.filter(isDatagram).map((f) => f[42]!)
        const taken: Array<number> = []
        const streamed: Array<number> = []
        let held: FrameBatch | undefined
        yield* netif.takeNow!((batch) => {
          taken.push(...datagrams(batch))
          if (held === undefined && datagrams(batch).length > 0) held = batch // kept: the batches after it go to frames
          else netif.release!(batch)
        })
        yield* Effect.forkScoped(Stream.runForEach(netif.frames, (batch) =>
          Effect.sync(() => {
            streamed.push(...datagrams(batch))
            netif.release!(batch)
          })))
        const send = (first: number) => sendDatagrams(ns, 3, 0.05, first)
        const seen = (n: number) => until(() => taken.length + streamed.length >= n)
        yield* send(10)
        yield* seen(3)
        expect(taken).toEqual([10])
        expect(streamed).toEqual([11, 12])
        netif.release!(held!)
        yield* send(20)
        yield* seen(6)
        expect(taken).toEqual([10, 20, 21, 22])
        expect(streamed).toEqual([11, 12])
      }), true))

  it.live("a batch kept while later ones are read and handed back keeps its bytes", () =>
    onTap({}, (netif, ns) =>
      Effect.gen(function* () {
        let held: FrameBatch | undefined
        let streamed = 0
        yield* Effect.forkScoped(Stream.runForEach(netif.frames, (batch) =>
          Effect.sync(() => {
            const datagrams = batch.filter(isDatagram).length
            if (held === undefined && datagrams > 0) held = batch // kept to the end
            else netif.release!(batch)
            streamed += datagrams
          })))
        const send = (count: number, first: number) => sendDatagrams(ns, count, 0, first)
        const seen = (n: number) => until(() => streamed >= n)
        yield* send(1, 10)
        yield* seen(1)
        // 1.2 MB more through the receive memory (bytes 11 to 250, never 10), handed back batch by batch.
        for (let round = 1; round <= 5; round++) {
          yield* send(240, 11)
          yield* seen(1 + 240 * round)
        }
        const kept = held!.find(isDatagram)!
        expect(kept.length).toBe(14 + 20 + 8 + 1000)
        expect(kept.subarray(42).every((byte) => byte === 10)).toBe(true)
        netif.release!(held!)
      }), true))

  it.live("a batch the takeNow taker keeps past its call keeps its bytes while later ones are read, twice over", () =>
    onTap({}, (netif, ns) =>
      Effect.gen(function* () {
        let held: FrameBatch | undefined
        let holding = false
        let datagrams = 0
        const count = (batch: FrameBatch) => (datagrams += batch.filter(isDatagram).length)
        yield* netif.takeNow!((batch) => {
          count(batch)
          if (holding && held === undefined && batch.some(isDatagram)) held = batch // read where it lies, kept past the call
          else netif.release!(batch)
        })
        yield* Effect.forkScoped(Stream.runForEach(netif.frames, (batch) =>
          Effect.sync(() => {
            count(batch)
            netif.release!(batch)
          })))
        const send = (n: number, first: number) => sendDatagrams(ns, n, 0, first)
        const seen = (n: number) => until(() => datagrams >= n)
        // Each time: one datagram of byte `marker` is kept, then 1.2 MB more (bytes 11 to 250, never the marker) are read and handed back.
        for (const marker of [10, 5]) {
          holding = true
          const before = datagrams
          yield* send(1, marker)
          yield* seen(before + 1)
          holding = false
          const kept = held!
          for (let round = 1; round <= 5; round++) {
            yield* send(240, 11)
            yield* seen(before + 1 + 240 * round)
          }
          const frame = kept.find(isDatagram)!
          expect(frame.length).toBe(14 + 20 + 8 + 1000)
          expect(frame.subarray(42).every((byte) => byte === marker)).toBe(true)
          netif.release!(kept)
          held = undefined
        }
      }), true))

  it.live("busyPollMicros turns the device's busy polling on: CPU time spent checking after each wake-up", () =>
    Effect.gen(function* () {
      /** CPU milliseconds our thread used while the kernel sent 40 frames 10 ms apart to a TAP opened with `busyPollMicros`. */
      const cpuWhileReceiving = (busyPollMicros: number) =>
        onTap({ busyPollMicros }, (netif, ns, tap) =>
          Effect.gen(function* () {
            let received = 0
            yield* Effect.forkScoped(Stream.runForEach(netif.frames, (batch) =>
              Effect.sync(() => {
                received += batch.filter((f) => f[12] === 0x88 && f[13] === 0xb5).length
                netif.release!(batch)
              })))
            const before = process.threadCpuUsage()
            yield* kernelSendsSpaced(ns, tap, 40, 0.01)
            while (received < 40) yield* Effect.sleep("5 millis")
            const used = process.threadCpuUsage(before)
            return (used.user + used.system) / 1000
          }))
      yield* cpuWhileReceiving(0) // warms up: the first run compiles the code it runs
      const off = yield* cpuWhileReceiving(0)
      const on = yield* cpuWhileReceiving(1000)
      // About 1 ms of checking after each of the 40 wake-ups.
      expect(on - off).toBeGreaterThan(15)
    }))

  it.live("deleting the namespace (and so the TAP) fails the stream with NetifDisconnected", () =>
    onTap({}, (netif, ns) =>
      Effect.gen(function* () {
        const reader = yield* Effect.forkScoped(Stream.runDrain(netif.frames))
        ip("netns", "del", ns)
        const error = yield* Fiber.join(reader).pipe(Effect.flip, Effect.timeout("5 seconds"))
        expect(error._tag).toBe("NetifDisconnected")
        const writeError = yield* Effect.flip(netif.write(new Uint8Array(60)))
        expect(writeError._tag).toBe("NetifDisconnected")
      })))

  it.live("open failures are typed and say how to fix them", () =>
    Effect.gen(function* () {
      const openError = (layer: Layer.Layer<Netif, NetifError>) => Effect.flip(Effect.scoped(Layer.build(layer)))
      const tap = `euk${randomBytes(4).toString("hex")}`
      const busy = yield* Effect.scoped(Effect.flatMap(Layer.build(layerTap({ name: tap })), () => openError(layerTap({ name: tap }))))
      expect(busy._tag).toBe("NetifDeviceOpenFailed")
      expect(busy.message).toContain(`another process holds ${tap}`)
      const notTap = yield* openError(layerTap({ name: "lo" }))
      expect(notTap.message).toContain("lo exists but is not a TAP device")
      const missing = yield* openError(layerPacket({ name: "euk-none" }))
      expect(missing.message).toContain("there is no interface euk-none")
      const noAddon = yield* openError(layerTap({ name: tap, addonPath: "/nonexistent/tap.node" }))
      expect(noAddon._tag).toBe("NetifAddonUnavailable")
      expect(noAddon.message).toContain("npm run build:addon")
      const badOffload = yield* openError(layerTap({ name: tap, offload: "kernel" as unknown as boolean }))
      expect(badOffload._tag).toBe("NetifDeviceOpenFailed")
      expect(badOffload.message).toContain(`offload is "kernel"`)
      expect(badOffload.message).toContain(`"software" (the addon's)`)
      for (const busyPollMicros of [-1, 5000, Number.NaN]) {
        const badBusyPoll = yield* openError(layerTap({ name: tap, busyPollMicros }))
        expect(badBusyPoll._tag).toBe("NetifDeviceOpenFailed")
        expect(badBusyPoll.message).toContain(`busyPollMicros is ${busyPollMicros}`)
        expect(badBusyPoll.message).toContain("0 (off) up to 1000 microseconds")
      }
    }))
})

describe.skipIf(reason !== undefined)("AF_PACKET backend (root, network namespace)", () => {
  it.live("a packet-socket host inside the namespace answers the kernel's ping over a veth", () =>
    Effect.gen(function* () {
      const { ns } = yield* scratchNamespace
      ip("-n", ns, "link", "add", "euk-host", "type", "veth", "peer", "name", "euk-kernel")
      for (const dev of ["euk-host", "euk-kernel"]) ip("-n", ns, "link", "set", dev, "addrgenmode", "none")
      ip("-n", ns, "addr", "add", "10.77.1.1/24", "dev", "euk-kernel")
      for (const dev of ["euk-host", "euk-kernel"]) ip("-n", ns, "link", "set", dev, "up")
      const host = yield* Effect.acquireRelease(
        Effect.sync(() =>
          spawn("ip", ["netns", "exec", ns, process.execPath, join(import.meta.dirname, "fixtures", "packet-host.ts"), "euk-host", "10.77.1.2"])
        ),
        (child) => Effect.sync(() => child.kill()),
      )
      const ready = yield* Effect.callback<string, Error>((resume) => {
        host.stdout.once("data", (data) => resume(Effect.succeed(String(data))))
        host.once("exit", (code) => resume(Effect.fail(new Error(`packet host exited with ${code}`))))
      }).pipe(Effect.timeout("5 seconds"))
      const hostMac = JSON.parse(ip("-n", ns, "-j", "link", "show", "euk-host"))[0].address
      expect(ready.trim()).toBe(`ready ${hostMac}`)
      const ping = yield* Effect.tryPromise(() =>
        run("ip", ["netns", "exec", ns, "ping", "-c", "3", "-i", "0.2", "-W", "2", "10.77.1.2"])
      )
      expect(ping.stdout).toContain("3 received")
    }).pipe(Effect.scoped))
})
