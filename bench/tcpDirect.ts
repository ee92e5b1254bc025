/**
 * One direct-stack contender of bench/tcp, in a process of its own (as
 * lwIP's and the kernel's run in theirs, and as a unikernel runs): our stack
 * on a TAP in a fresh namespace, with an echo server on port 6300 for the
 * kernel's request/response client.
 *
 * `node bench/tcpDirect.ts CONFIG`, CONFIG a JSON `DirectConfig`. Prints
 * `ready NAMESPACE` once up; then, for each line `ID rx PORT` or `ID tx PORT`
 * on stdin, runs one bulk transfer with the kernel (bench/lwip/transfer.c)
 * and prints `done ID REPORT` (REPORT: a JSON `TransferReport`, as
 * transfer.c prints); it exits once stdin ends, its namespace deleted:
 *
 * - rx: the kernel sends to our listener on PORT for SECONDS; our rate
 *   between first and last byte;
 * - tx: we send to the kernel's sink on PORT for SECONDS (256 KiB writes),
 *   the sink's report.
 */
import { Deferred, Effect, Queue, Stream } from "effect"
import type { Cause } from "effect"
import { createInterface } from "node:readline"
import type { Ipv4Config } from "../src/net/direct/Config.ts"
import type { NetifTapOptions, TapOffload } from "../src/net/NetifTap.ts"
import type { Stack } from "../src/net/Stack.ts"
import type { TcpOptions } from "../src/net/tcp/TcpLayer.ts"
import { directOnTap, drain, echo, KERNEL, spawnIn, US } from "../test/net/tcpkernel/kernel.ts"
import { transferReport } from "./transferReport.ts"
import type { TransferReport } from "./transferReport.ts"

/** What bench/tcp passes: the kernel side's transfer.c, the transfer's length, and the stack's configuration. */
export interface DirectConfig {
  readonly transfer: string
  readonly seconds: number
  readonly tcp: TcpOptions
  readonly offload: TapOffload
  readonly ipv4: Omit<Ipv4Config, "cidr">
  readonly tap: Omit<NetifTapOptions, "name" | "offload">
}

const CHUNK = 256 * 1024

const config = JSON.parse(process.argv[2]!) as DirectConfig

/** The kernel sends to our listener on `port`; our rate between first and last byte. */
const receives = (ns: string, stack: Stack["Service"], port: number) =>
  Effect.scoped(Effect.gen(function* () {
    const done = yield* Deferred.make<TransferReport>()
    yield* stack.tcp.listen(port, (flow) =>
      Effect.gen(function* () {
        let first = 0
        const bytes = yield* drain(flow, () => (first ||= performance.now()))
        yield* Deferred.succeed(done, { bytes, seconds: (performance.now() - first) / 1000, cpu: NaN })
      }).pipe(Effect.orDie))
    const source = yield* spawnIn(ns, config.transfer, ["source", "connect", US, String(port), String(config.seconds)])
    yield* source.exited
    return yield* Deferred.await(done)
  }))

/** We send to the kernel's sink on `port`; its report. */
const sends = (ns: string, stack: Stack["Service"], port: number) =>
  Effect.scoped(Effect.gen(function* () {
    const sink = yield* spawnIn(ns, config.transfer, ["sink", "listen", KERNEL, String(port), "0"])
    yield* sink.printed("ready")
    const chunk = new Uint8Array(CHUNK).fill(0x5a)
    const flow = yield* stack.tcp.connect({ address: KERNEL, port })
    const start = performance.now()
    while (performance.now() - start < config.seconds * 1000) yield* flow.write(chunk)
    yield* flow.shutdown
    return yield* transferReport(sink)
  }))

const main = Effect.gen(function* () {
  const { ns, stack } = yield* directOnTap(config.tcp, config.offload, config.ipv4, undefined, config.tap)
  yield* stack.tcp.listen(6300, echo)
  const lines = yield* Queue.unbounded<string, Cause.Done>()
  const input = createInterface({ input: process.stdin })
  input.on("line", (line) => Queue.offerUnsafe(lines, line))
  input.on("close", () => Queue.endUnsafe(lines))
  console.log(`ready ${ns}`)
  yield* Stream.runForEach(Stream.fromQueue(lines), (line) =>
    Effect.gen(function* () {
      const [id, kind, port] = line.split(" ")
      const report = kind === "rx" ? yield* receives(ns, stack, Number(port)) : yield* sends(ns, stack, Number(port))
      console.log(`done ${id} ${JSON.stringify(report)}`)
    }))
})

Effect.runPromise(Effect.scoped(main)).then(() => process.exit(0), (error) => {
  console.error(error)
  process.exit(1)
})
