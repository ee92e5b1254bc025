/**
 * The direct stack against the kernel, next to the raw `Netif` ceiling.
 *
 * Run as root: `node_modules/.bin/node bench/stack.ts`. One throw-away
 * network namespace holds the kernel side of one TAP that this process
 * opened. On that TAP, first a raw host (hand-made ARP and echo replies
 * straight on `Netif`, as test/net/netif/replies.ts; the approach of
 * bench/frames.ts) and then the direct stack are measured the same way:
 *
 * - ICMP echo RTT: the kernel's `ping -c 200 -i 0.002`, p50 and p99 of its
 *   per-reply times;
 * - UDP datagrams/s, kernel → us: a Python sender in the namespace sends
 *   64-byte datagrams for 2 s; we count what arrives (raw: frames to the
 *   port; stack: `udp.listen` handler calls) between the first and the last;
 * - UDP datagrams/s, us → kernel: we send 64-byte datagrams for 2 s (raw:
 *   one prebuilt frame per `netif.write`; stack: one `udp.send` each, the
 *   same granularity); a Python receiver in the namespace counts them.
 *
 * Each metric is measured RUNS times and the median is reported. Prints a
 * table with the ratios against the goals (RTT within 2× of raw, UDP ≥ 60%
 * of raw) and writes `bench/results/stack.json`.
 */
import { Clock, Context, Effect, Fiber, Layer, Stream } from "effect"
import { execFile, spawn } from "node:child_process"
import { promisify } from "node:util"
import { layerDirect } from "../src/net/direct/DirectStack.ts"
import { Netif } from "../src/net/Netif.ts"
import { layerTap } from "../src/net/NetifTap.ts"
import { Stack } from "../src/net/Stack.ts"
import { ipv4, readMac } from "../src/net/wire/addr.ts"
import * as Ethernet from "../src/net/wire/ethernet.ts"
import * as Ipv4Wire from "../src/net/wire/ipv4.ts"
import * as Udp from "../src/net/wire/udp.ts"
import { moveIntoNamespace, scratchNamespace } from "../test/net/netif/netns.ts"
import { answerFor } from "../test/net/netif/replies.ts"
import { median, requireRoot, writeResults } from "./common.ts"

const run = promisify(execFile)
const US = [10, 77, 9, 2] as const
const US_TEXT = US.join(".")
const KERNEL_TEXT = "10.77.9.1"
const RX_PORT = 9000
const TX_PORT = 9001
const PAYLOAD = 64
const SECONDS = 2
/** Measurements per metric; the median is reported. */
const RUNS = 3

/** Sends `size`-byte datagrams to `address:port` for `seconds`; prints the offered rate. */
const SENDER = `
import socket, sys, time
address, port, seconds, size = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
payload, target, send, sent, start = bytes(size), (address, port), s.sendto, 0, time.perf_counter()
while time.perf_counter() - start < seconds:
    for _ in range(64):
        try:
            send(payload, target)
            sent += 1
        except OSError:
            pass
print(sent / (time.perf_counter() - start))
`

/** Counts datagrams to `address:port` until 0.5 s of silence; prints "count rate". */
const RECEIVER = `
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)
s.bind((sys.argv[1], int(sys.argv[2])))
s.settimeout(10)
print("ready", flush=True)
n, first, last = 0, 0.0, 0.0
try:
    while True:
        s.recv(2048)
        last = time.perf_counter()
        if n == 0:
            first = last
            s.settimeout(0.5)
        n += 1
except socket.timeout:
    pass
print(n, (n - 1) / (last - first) if n > 1 else 0)
`

/** Counts arrivals, keeping the times of the first and the last. */
const arrivals = () => {
  const state = { count: 0, first: 0, last: 0 }
  return {
    add: (n: number) => {
      const now = performance.now()
      if (state.count === 0) state.first = now
      state.count += n
      state.last = now
    },
    reset: () => Object.assign(state, { count: 0, first: 0, last: 0 }),
    rate: () => (state.count > 1 ? (state.count - 1) / ((state.last - state.first) / 1000) : 0),
  }
}

const inNamespace = (ns: string, ...command: Array<string>) =>
  Effect.map(Effect.promise(() => run("ip", ["netns", "exec", ns, ...command], { timeout: 60_000 })), (r) => r.stdout)

/** The kernel pings us 200 times, 2 ms apart: p50 and p99 of the reply times (ms). */
const kernelPing = (ns: string) =>
  Effect.map(inNamespace(ns, "ping", "-c", "200", "-i", "0.002", "-W", "1", US_TEXT), (out) => {
    const times = Array.from(out.matchAll(/time=([0-9.]+) ms/g), (m) => Number(m[1])).sort((a, b) => a - b)
    const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? NaN
    return { replies: times.length, p50: at(0.5), p99: at(0.99) }
  })

/** The kernel sends datagrams to our RX_PORT for SECONDS; we count with `meter`. */
const kernelToUs = (ns: string, meter: ReturnType<typeof arrivals>) =>
  Effect.gen(function* () {
    meter.reset()
    const offered = Number(yield* inNamespace(ns, "python3", "-c", SENDER, US_TEXT, String(RX_PORT), String(SECONDS), String(PAYLOAD)))
    yield* Effect.sleep("300 millis")
    return { offered: Math.round(offered), received: Math.round(meter.rate()) }
  })

/** We run `send` for SECONDS while a receiver in the namespace counts; returns both rates. */
const usToKernel = (ns: string, send: Effect.Effect<void, unknown>) =>
  Effect.gen(function* () {
    const child = spawn("ip", ["netns", "exec", ns, "python3", "-c", RECEIVER, KERNEL_TEXT, String(TX_PORT)])
    let out = ""
    child.stdout.on("data", (data) => (out += data))
    const done = Effect.callback<void>((resume) => {
      if (child.exitCode !== null) resume(Effect.void)
      else child.once("exit", () => resume(Effect.void))
    })
    yield* Effect.callback<void>((resume) => {
      child.stdout.once("data", () => resume(Effect.void))
    }).pipe(Effect.timeout("10 seconds"))
    const start = yield* Clock.currentTimeMillis
    let sent = 0
    while ((yield* Clock.currentTimeMillis) - start < SECONDS * 1000) {
      for (let i = 0; i < 256; i++) yield* send
      sent += 256
    }
    const elapsed = ((yield* Clock.currentTimeMillis) - start) / 1000
    yield* done.pipe(Effect.timeout("15 seconds"))
    const [, rate] = out.trim().split("\n").at(-1)!.split(" ").map(Number)
    return { offered: Math.round(sent / elapsed), received: Math.round(rate ?? 0) }
  })

/** A prebuilt 64-byte datagram frame from us to the kernel's TX_PORT. */
const rawDatagram = (ourMac: Uint8Array, kernelMac: number): Uint8Array => {
  const frame = new Uint8Array(14 + 20 + 8 + PAYLOAD)
  const source = ipv4(...US)
  const destination = ipv4(10, 77, 9, 1)
  Udp.emit({ sourcePort: 50000, destinationPort: TX_PORT, payloadLength: PAYLOAD }, frame, 34, source, destination)
  Ipv4Wire.emit({ identification: 1, ttl: 64, protocol: 17, source, destination, payloadLength: 8 + PAYLOAD }, frame, 14)
  Ethernet.emit({ destination: kernelMac, source: readMac(ourMac, 0), etherType: Ethernet.EtherType.Ipv4 }, frame)
  return frame
}

const isDatagramTo = (frame: Uint8Array, port: number): boolean =>
  frame[12] === 0x08 && frame[13] === 0 && frame[23] === 17 && ((frame[36]! << 8) | frame[37]!) === port

/** The raw host: counts datagrams to RX_PORT, answers ARP and echo requests by hand. */
const rawHost = (netif: Netif["Service"], meter: ReturnType<typeof arrivals>) => {
  const answer = answerFor(US)
  return Stream.runForEach(netif.frames, (batch) => {
    const replies: Array<Uint8Array> = []
    let datagrams = 0
    for (const frame of batch) {
      if (isDatagramTo(frame, RX_PORT)) datagrams++
      else {
        const reply = answer(frame, netif.mac)
        if (reply !== undefined) replies.push(reply)
      }
    }
    if (datagrams > 0) meter.add(datagrams)
    return replies.length > 0 ? netif.writeBatch(replies) : Effect.void
  })
}

const kernelMac = (ns: string, ifname: string) =>
  Effect.map(inNamespace(ns, "ip", "-j", "link", "show", ifname), (out) => {
    const mac = JSON.parse(out)[0].address as string
    return parseInt(mac.replaceAll(":", ""), 16)
  })

/** RUNS measurements of each metric against one host (raw or stack); the medians, and every run. */
const measure = (ns: string, meter: ReturnType<typeof arrivals>, send: Effect.Effect<void, unknown>) =>
  Effect.gen(function* () {
    const runs: Array<{ p50: number; p99: number; rx: number; tx: number }> = []
    for (let i = 0; i < RUNS; i++) {
      const rtt = yield* kernelPing(ns)
      const rx = yield* kernelToUs(ns, meter)
      const tx = yield* usToKernel(ns, send)
      runs.push({ p50: rtt.p50, p99: rtt.p99, rx: rx.received, tx: tx.received })
    }
    return {
      p50: median(runs.map((r) => r.p50)),
      p99: median(runs.map((r) => r.p99)),
      rx: median(runs.map((r) => r.rx)),
      tx: median(runs.map((r) => r.tx)),
      runs,
    }
  })

const main = Effect.gen(function* () {
  const { ns, ifname } = yield* scratchNamespace
  const netifContext = yield* Layer.build(layerTap({ name: ifname }))
  const netif = Context.get(netifContext, Netif)
  yield* moveIntoNamespace(ns, ifname, `${KERNEL_TEXT}/24`)
  const meter = arrivals()

  const rawFiber = yield* Effect.forkScoped(rawHost(netif, meter))
  const frame = rawDatagram(netif.mac, yield* kernelMac(ns, ifname))
  const raw = yield* measure(ns, meter, netif.write(frame))
  yield* Fiber.interrupt(rawFiber)

  const stackContext = yield* Layer.build(layerDirect({ cidr: `${US_TEXT}/24` }).pipe(Layer.provide(Layer.succeedContext(netifContext))))
  const stack = Context.get(stackContext, Stack)
  yield* stack.udp.listen(RX_PORT, () => Effect.sync(() => meter.add(1)))
  const payload = new Uint8Array(PAYLOAD)
  const direct = yield* measure(ns, meter, stack.udp.send({ address: KERNEL_TEXT, port: TX_PORT }, payload, { sourcePort: 50000 }))

  const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100
  const rows = [
    { metric: "ICMP echo RTT p50 (ms)", raw: raw.p50, stack: direct.p50, ratio: ratio(direct.p50, raw.p50), goal: "≤ 2×" },
    { metric: "ICMP echo RTT p99 (ms)", raw: raw.p99, stack: direct.p99, ratio: ratio(direct.p99, raw.p99), goal: "≤ 2×" },
    { metric: "UDP kernel → us (datagrams/s)", raw: raw.rx, stack: direct.rx, ratio: ratio(direct.rx, raw.rx), goal: "≥ 0.6×" },
    { metric: "UDP us → kernel (datagrams/s)", raw: raw.tx, stack: direct.tx, ratio: ratio(direct.tx, raw.tx), goal: "≥ 0.6×" },
  ].map((row) => ({ ...row, met: row.goal === "≤ 2×" ? row.ratio <= 2 : row.ratio >= 0.6 }))
  console.table(rows)
  writeResults("stack", {
    method: `one namespace and TAP; raw host (hand-made replies on Netif), then the direct stack; ` +
      `kernel ping -c 200 -i 0.002; UDP ${PAYLOAD}-byte datagrams for ${SECONDS} s each way, rate between first and last arrival ` +
      `(received by the other side); median of ${RUNS} runs`,
    rows,
    runs: { raw: raw.runs, stack: direct.runs },
  })
})

requireRoot("bench/stack")
Effect.runPromise(Effect.scoped(main)).catch((error) => {
  console.error(error)
  process.exit(1)
})
