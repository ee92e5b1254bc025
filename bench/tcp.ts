/**
 * TCP bulk transfer, connections/s and request latency: our direct stack
 * against lwIP, the Linux kernel and the raw TAP frame ceiling.
 *
 * Run as root: `node_modules/.bin/node bench/tcp.ts`. Needs gcc; lwIP's rows
 * need Debian's `liblwip-dev` (left out, with the reason printed, without).
 * The C programs of bench/lwip are built into a temporary directory.
 *
 * Every stack under test talks to the kernel in a throw-away namespace:
 *
 * - direct: our stack on a TAP whose other end is in the namespace, each
 *   row in processes of its own (bench/tcpDirect.ts; two, taking the rounds
 *   in turn, see PROCESSES_PER_ROW), as lwIP's and the kernel's run in
 *   theirs and as a unikernel runs (in one process with six other stacks
 *   idle beside it, the like-for-like receive below measured ~8% slower
 *   against the ceiling in scratch runs); in seven rows: buffers
 *   (lwIP's 64 KiB, or our default 1 MiB) by TAP (frame per segment as
 *   lwIP's, or with the TAP's TCP segmentation and checksum offload: up to
 *   64 KiB per frame, cut to the same MSS 1460 on the wire by the kernel,
 *   as a virtio NIC with TSO does). Without the kernel's offload, TCP's
 *   bursts are cut into wire segments, each summed
 *   and written on its own as lwIP's are, by one of: the addon, in C
 *   (`offload: "software"`); our IPv4, in JavaScript (its software
 *   segmentation); or nobody, TCP then running once per segment. The row
 *   with lwIP's MSS and window and the addon's cutting is the like-for-like
 *   comparison (the kernel does the same work per frame for both stacks);
 *   the last, with both defaults, is what a user of the stack gets. Rows
 *   without the kernel's offload open the TAP with threaded NAPI (the
 *   default there: the kernel handles the frames we write on a thread of
 *   its own); one more row, the like-for-like without it, shows what that
 *   gives; and one more, the like-for-like busy-polling the TAP for
 *   BUSY_POLL µs after each wake-up with frames (`busyPollMicros`, off by
 *   default), what spending CPU time to skip sleeps and wake-ups gives;
 * - lwIP: `bench/lwip/lwip_tap.c` on its own TAP, lwIP's socket API;
 * - kernel: the kernel's own stack in a second namespace, over a veth pair
 *   (the reference; its offloads left as they are);
 * - ceiling: bench/tapEcho.ts, 1514-byte frames echoed through the addon
 *   (its reads and writes batched through io_uring, as our stack's are;
 *   without threaded NAPI, which measured slower for the echo, its NAPI
 *   thread competing with the sender for the two CPUs), flooded by
 *   bench/flood.c so that the echo, not the sender, is the limit.
 *
 * The kernel side always runs `bench/lwip/transfer.c` built plainly. Each
 * bulk run moves data one way for SECONDS (sender: 256 KiB writes), rate
 * measured by the receiver between its first and last byte; "stack cores"
 * is the CPU of the process running the stack under test, "machine cores"
 * the whole machine's (both ends and the kernel), "stolen" the share of the
 * machine's CPU time the hypervisor took (on a shared host, rounds with much
 * of it ran slow). A round in which it took more than STEAL_LIMIT during
 * any stack's run is run again, at most REPEATS times, and the output says
 * which. Connections/s: the kernel connects, writes 32 bytes, reads them
 * back from the stack's echo server and closes, one connection after
 * another for RR_SECONDS; p50/p99 of those round trips. Before the bulk rounds and before the request/response
 * rounds, one warm-up run per stack that is not counted: without it the
 * first round would time V8 compiling (in 17 of 22 scratch runs our first
 * bulk receive in a process was slower than its second, by up to 40%; and
 * the bulk runs never open connections at the request/response rate). RUNS
 * runs each, interleaved: every stack is set up once, then each round runs
 * every stack in turn (bulk rounds first, then request/response rounds),
 * so a drift of this shared, noisy machine's speed reaches all rows alike
 * (lwIP runs right after the like-for-like row). Median and min–max.
 * Prints the tables and our ratios against the goals (≥ 60% of the
 * ceiling, ≥ lwIP), each taken round by round (our run over theirs in the
 * same round) then summarised the same way, and writes
 * `bench/results/tcp.json`.
 */
import { Effect } from "effect"
import type { Scope } from "effect"
import { spawnSync } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { Ipv4Config } from "../src/net/direct/Config.ts"
import type { NetifTapOptions, TapOffload } from "../src/net/NetifTap.ts"
import type { TcpOptions } from "../src/net/tcp/TcpLayer.ts"
import { ip, moveIntoNamespace, scratchNamespace } from "../test/net/netif/netns.ts"
import { KERNEL, spawnIn, spawnScoped, US } from "../test/net/tcpkernel/kernel.ts"
import type { Process } from "../test/net/tcpkernel/kernel.ts"
import { machineCpu, median, requireRoot, writeResults } from "./common.ts"
import { measureEcho } from "./tapEcho.ts"
import type { DirectConfig } from "./tcpDirect.ts"
import { transferReport } from "./transferReport.ts"
import type { TransferReport } from "./transferReport.ts"

const SECONDS = 2
const RR_SECONDS = 2
const RUNS = 5
/**
 * A round in which the hypervisor took more than this share of the machine
 * during any stack's run is run again: the ratios pair each row with the
 * ceiling and lwIP of the same round, measured seconds apart, and time
 * taken from one of them but not the other skews the pair.
 */
const STEAL_LIMIT = 0.05
/** At most this many rounds are run again; past it, the rounds stand as they came. */
const REPEATS = 3
/** lwIP's TCP_WND and TCP_SND_BUF in Debian's build (/usr/include/lwip/lwipopts.h); its TCP_MSS is 1460 like ours on a 1500 MTU. */
const LWIP_WINDOW = 0xffff
/** The busy polling of one row, in µs (`NetifTapOptions.busyPollMicros`), as Linux's busy_read is often set. */
const BUSY_POLL = 50
/**
 * Processes per direct row, taking the rounds in turn. Two processes
 * running the same code measured up to ~10% apart over a whole benchmark
 * (where the scheduler keeps the stack and its TAP's NAPI thread, what V8
 * made of the code): a row with one process is one draw of that, with two,
 * the median of its rounds mixes two.
 */
const PROCESSES_PER_ROW = 2

/** One measurement of a stack: MB/s (or connections/s), the stack's cores, the machine's cores and stolen share, and latency for rr. */
interface Sample {
  readonly rate: number
  readonly stackCores: number
  readonly machineCores: number
  readonly stolen: number
  readonly p50?: number
  readonly p99?: number
}


/** Builds bench/lwip into `dir`: the plain transfer program, and lwip_tap or why it cannot be built. */
const build = (dir: string) => {
  const source = join(import.meta.dirname, "lwip")
  const gcc = (...args: Array<string>) => spawnSync("gcc", ["-O2", "-Wall", ...args], { encoding: "utf8" })
  const transfer = join(dir, "transfer")
  const plain = gcc("-o", transfer, join(source, "transfer.c"))
  if (plain.status !== 0) throw new Error(`cannot build bench/lwip/transfer.c (apt-get install -y gcc): ${plain.stderr ?? plain.error}`)
  const lwip = join(dir, "lwip_tap")
  const built = gcc("-DUSE_LWIP", "-I/usr/include/lwip", "-o", lwip, join(source, "lwip_tap.c"), join(source, "transfer.c"), "-llwip", "-lpthread")
  return { transfer, lwip: built.status === 0 ? lwip : `lwIP not built (apt-get install -y liblwip-dev): ${built.stderr?.split("\n")[0] ?? built.error}` }
}

/** CPU seconds used so far by process `pid` (user + system, from /proc). */
const cpuSeconds = (pid: number): number => {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
  return (Number(fields[11]) + Number(fields[12])) / 100 // utime, stime in USER_HZ
}

/**
 * Runs `body`, measuring the cores the stack under test and the whole machine
 * kept busy: the stack's CPU seconds are read from /proc for process `stack`
 * (alive throughout), or taken from the result's report of its own process
 * (`stack` a function of the result: a program that exits within `body`).
 */
const measured = <A, E, R>(stack: number | ((result: A) => number), body: Effect.Effect<A, E, R>) =>
  Effect.gen(function* () {
    const machine = machineCpu()
    const cpu = typeof stack === "number" ? cpuSeconds(stack) : 0
    const start = performance.now()
    const result = yield* body
    const seconds = (performance.now() - start) / 1000
    const used = typeof stack === "number" ? cpuSeconds(stack) - cpu : stack(result)
    const { cores, stolen } = machine.since()
    return { result, stackCores: used / seconds, machineCores: cores, stolen }
  })

const mbps = (r: TransferReport) => r.bytes / 1e6 / r.seconds

/** The kernel in `ns` runs transfer.c `args`; its report. */
const kernelRuns = (ns: string, transfer: string, args: ReadonlyArray<string>) =>
  Effect.scoped(Effect.flatMap(spawnIn(ns, transfer, args), transferReport))

/** The kernel's request/response client against the echo server at `host:port` run by process `pid`. */
const requestResponse = (ns: string, transfer: string, port: number, pid: number) =>
  Effect.map(measured(pid, kernelRuns(ns, transfer, ["rr", "connect", US, String(port), String(RR_SECONDS)])), (m): Sample => ({
    rate: m.result.bytes / m.result.seconds,
    stackCores: m.stackCores,
    machineCores: m.machineCores,
    stolen: m.stolen,
    p50: m.result.p50 ?? NaN,
    p99: m.result.p99 ?? NaN,
  }))

/** Bulk samples: MB/s from the receiver's report, cores from `measured`. */
const bulk = (m: { result: TransferReport; stackCores: number; machineCores: number; stolen: number }): Sample => ({
  rate: mbps(m.result),
  stackCores: m.stackCores,
  machineCores: m.machineCores,
  stolen: m.stolen,
})

/**
 * The kernel in `ns` sends to `sink` (a transfer.c sink listening at `US:port`,
 * in its own process) for SECONDS: the sink's rate, and its own CPU as the stack's cores.
 */
const kernelSendsTo = (ns: string, transfer: string, port: number, sink: Process) =>
  Effect.gen(function* () {
    yield* sink.printed("ready")
    return bulk(yield* measured((r: TransferReport) => r.cpu, Effect.andThen(
      kernelRuns(ns, transfer, ["source", "connect", US, String(port), String(SECONDS)]),
      transferReport(sink),
    )))
  })

/** Samples of one stack: kernel → stack, stack → kernel, request/response. */
interface Samples {
  readonly rx: Array<Sample>
  readonly tx: Array<Sample>
  readonly rr: Array<Sample>
}

/**
 * One stack under test, set up once: `run` takes one sample of each kind
 * (`rr` after every bulk run is done). The runs of all stacks are
 * interleaved, round by round, so a drift of the machine's speed during the
 * benchmark reaches every row alike.
 */
interface Contender {
  readonly bulk: Effect.Effect<{ rx: Sample; tx: Sample }, unknown>
  readonly rr: Effect.Effect<Sample, unknown>
}

/**
 * Our stack (`config`) started in a process of its own (bench/tcpDirect.ts),
 * on a TAP in a fresh namespace: `run` has it make one bulk transfer with
 * the kernel; stopped (stdin ended, so that it deletes its namespace) when
 * the scope closes.
 */
const directProcess = (config: DirectConfig) =>
  Effect.gen(function* () {
    const p = yield* spawnScoped(process.execPath, [join(import.meta.dirname, "tcpDirect.ts"), JSON.stringify(config)], "pipe")
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => p.child.stdin!.end()).pipe(Effect.andThen(Effect.ignore(p.exited)), Effect.timeout("10 seconds"), Effect.ignore))
    yield* p.printed("ready ")
    let runs = 0
    return {
      ns: /ready (\S+)/.exec(p.stdout())![1]!,
      pid: p.child.pid!,
      /** One bulk run (`rx` or `tx` on `port`): its report. */
      run: (kind: "rx" | "tx", port: number) =>
        Effect.suspend(() => {
          const id = ++runs
          p.child.stdin!.write(`${id} ${kind} ${port}\n`)
          return Effect.map(p.printed(`done ${id} `), () => JSON.parse(new RegExp(`done ${id} (.*)`).exec(p.stdout())![1]!) as TransferReport)
        }),
    }
  })

/**
 * `run` on each of `processes` in turn, a process's first run preceded by
 * one that is not counted (it warms that process up).
 */
const inTurn = <P, A, E>(processes: ReadonlyArray<P>, run: (process: P) => Effect.Effect<A, E>): Effect.Effect<A, E> => {
  let runs = 0
  const warm = new Set<P>()
  return Effect.suspend(() => {
    const process = processes[runs++ % processes.length]!
    if (warm.has(process)) return run(process)
    warm.add(process)
    return Effect.andThen(run(process), run(process))
  })
}

/**
 * Our stack (the TAP's `offload` and other `tap` options, IPv4 configured by
 * `ipv4`) in PROCESSES_PER_ROW processes of its own, taking the runs in
 * turn: the kernel sends to us, we send to the kernel; the kernel's
 * request/response client. The processes last the whole benchmark, as a
 * unikernel runs on, warm: started afresh each round with a warm-up of 1 s
 * each way, one measured lower (receive 0.57 and 0.53 of the ceiling in two
 * runs against 0.54–0.63 in seven), and a fresh process's receive still
 * rose over its first four 2 s runs.
 */
const directContender = (
  transfer: string,
  tcp: TcpOptions,
  offload: TapOffload,
  ipv4: Omit<Ipv4Config, "cidr"> = {},
  tap: Omit<NetifTapOptions, "name" | "offload"> = {},
) =>
  Effect.gen(function* () {
    const stacks = yield* Effect.forEach(Array.from({ length: PROCESSES_PER_ROW }), () => directProcess({ transfer, seconds: SECONDS, tcp, offload, ipv4, tap }))
    let port = 6100
    return {
      bulk: inTurn(stacks, (stack) =>
        Effect.gen(function* () {
          port += 2
          const rx = bulk(yield* measured(stack.pid, stack.run("rx", port)))
          const tx = bulk(yield* measured(stack.pid, stack.run("tx", port + 1)))
          return { rx, tx }
        })),
      rr: inTurn(stacks, (stack) => requestResponse(stack.ns, transfer, 6300, stack.pid)),
    } satisfies Contender
  })

/** lwIP on its own TAP in a fresh namespace, running transfer.c `args` once the TAP is there. */
const lwipOnTap = (lwip: string, args: ReadonlyArray<string>): Effect.Effect<{ ns: string; p: Process }, never, Scope.Scope> =>
  Effect.gen(function* () {
    const { ns, ifname } = yield* scratchNamespace
    const p = yield* spawnScoped(lwip, [ifname, US, "24", ...args], "pipe")
    yield* p.printed("open")
    yield* moveIntoNamespace(ns, ifname, `${KERNEL}/24`)
    p.child.stdin!.write("go\n")
    return { ns, p }
  })

/** lwIP: a fresh process and TAP for each bulk run; one echo server for the request/response runs. */
const lwipContender = (transfer: string, lwip: string) =>
  Effect.gen(function* () {
    const server = yield* lwipOnTap(lwip, ["echo", "listen", US, "6402", "0"])
    yield* server.p.printed("ready")
    const rx = Effect.scoped(Effect.gen(function* () {
      const { ns, p } = yield* lwipOnTap(lwip, ["sink", "listen", US, "6400", "0"])
      return yield* kernelSendsTo(ns, transfer, 6400, p)
    }))
    const tx = Effect.scoped(Effect.gen(function* () {
      const { ns, ifname } = yield* scratchNamespace
      const p = yield* spawnScoped(lwip, [ifname, US, "24", "source", "connect", KERNEL, "6401", String(SECONDS)], "pipe")
      yield* p.printed("open")
      yield* moveIntoNamespace(ns, ifname, `${KERNEL}/24`)
      const sink = yield* spawnIn(ns, transfer, ["sink", "listen", KERNEL, "6401", "0"])
      yield* sink.printed("ready")
      return bulk(yield* measured(p.child.pid!, Effect.suspend(() => {
        p.child.stdin!.write("go\n")
        return transferReport(sink)
      })))
    }))
    return {
      bulk: Effect.all({ rx, tx }),
      rr: requestResponse(server.ns, transfer, 6402, server.p.child.pid!),
    } satisfies Contender
  })

/** The kernel's stack in one namespace, its peer in another, over a veth pair. */
const kernelContender = (transfer: string) =>
  Effect.gen(function* () {
    const peer = (yield* scratchNamespace).ns
    const { ns: stack, ifname } = yield* scratchNamespace
    const [a, b] = [`${ifname}a`, `${ifname}b`]
    ip("link", "add", a, "netns", peer, "type", "veth", "peer", "name", b, "netns", stack)
    for (const [ns, dev, address] of [[peer, a, KERNEL], [stack, b, US]] as const) {
      ip("-n", ns, "link", "set", dev, "addrgenmode", "none")
      ip("-n", ns, "addr", "add", `${address}/24`, "dev", dev)
      ip("-n", ns, "link", "set", dev, "up")
    }
    const server = yield* spawnIn(stack, transfer, ["echo", "listen", US, "6700", "0"])
    yield* server.printed("ready")
    let port = 6500
    const rx = Effect.scoped(Effect.gen(function* () {
      const sink = yield* spawnIn(stack, transfer, ["sink", "listen", US, String(++port), "0"])
      return yield* kernelSendsTo(peer, transfer, port, sink)
    }))
    const tx = Effect.scoped(Effect.gen(function* () {
      const sink = yield* spawnIn(peer, transfer, ["sink", "listen", KERNEL, String(++port), "0"])
      yield* sink.printed("ready")
      const source = yield* spawnIn(stack, transfer, ["source", "connect", KERNEL, String(port), String(SECONDS)])
      const m = yield* measured(([, own]: readonly [TransferReport, TransferReport]) => own.cpu, Effect.all([transferReport(sink), transferReport(source)]))
      return bulk({ ...m, result: m.result[0] })
    }))
    return {
      bulk: Effect.all({ rx, tx }),
      rr: requestResponse(peer, transfer, 6700, server.child.pid!),
    } satisfies Contender
  })

/** The raw frame ceiling: 1514-byte frames echoed through the addon (bench/tapEcho.ts), one run standing for both directions. */
const ceilingContender = Effect.succeed({
  bulk: Effect.promise(async () => {
    const row = await measureEcho("addon", 1514)
    const sample: Sample = { rate: row.megabytesPerSecond, stackCores: row.processCores, machineCores: row.machineCores, stolen: row.machineStolen }
    return { rx: sample, tx: sample }
  }),
  rr: Effect.die("the ceiling has no request/response"),
} satisfies Contender)

const round = (n: number, digits = 1) => (Number.isFinite(n) ? Math.round(n * 10 ** digits) / 10 ** digits : undefined)

/** Median and min–max of one metric over the runs. */
const summary = (values: ReadonlyArray<number>, digits = 1) => ({
  median: round(median(values), digits),
  min: round(Math.min(...values), digits),
  max: round(Math.max(...values), digits),
})

const cell = (s: ReturnType<typeof summary>) => `${s.median} (${s.min}–${s.max})`

/**
 * Our rate over another's, round by round (run i of every stack ran in the
 * same round, so each pair saw the machine alike), as median and min–max.
 */
const pairedRatio = (ours: ReadonlyArray<Sample>, theirs: ReadonlyArray<Sample>) =>
  summary(ours.map((sample, i) => sample.rate / theirs[i]!.rate), 2)

const main = Effect.gen(function* () {
  requireRoot("bench/tcp")
  const dir = mkdtempSync(join(tmpdir(), "euk-bench-tcp-"))
  yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
  const programs = build(dir)
  const lwipNote = programs.lwip.startsWith("/") ? undefined : programs.lwip
  if (lwipNote !== undefined) console.log(`leaving lwIP out: ${lwipNote}`)
  const lwipSize = `MSS 1460, ${LWIP_WINDOW}-byte buffers`
  const lwipBuffers = { config: { receiveBuffer: LWIP_WINDOW, sendBuffer: LWIP_WINDOW } }
  const stacks: Array<[string, Effect.Effect<Contender, unknown, Scope.Scope>]> = [
    ["raw TAP ceiling (1514-byte echo)", ceilingContender],
    [`direct (${lwipSize}, no kernel offload, cut by the addon, as lwIP)`, directContender(programs.transfer, lwipBuffers, "software")],
    ...(lwipNote === undefined ? [[`lwIP 2.1.3 (${lwipSize})`, lwipContender(programs.transfer, programs.lwip)] as [string, Effect.Effect<Contender, unknown, Scope.Scope>]] : []),
    [`direct (as lwIP, busy polling ${BUSY_POLL} µs)`, directContender(programs.transfer, lwipBuffers, "software", {}, { busyPollMicros: BUSY_POLL })],
    [`direct (as lwIP, without threaded NAPI)`, directContender(programs.transfer, lwipBuffers, "software", {}, { threadedNapi: false })],
    [`direct (${lwipSize}, no offload, cut by IPv4 in JS)`, directContender(programs.transfer, lwipBuffers, false)],
    [`direct (${lwipSize}, no offload, no segmentation)`, directContender(programs.transfer, lwipBuffers, false, { softwareSegmentation: false })],
    ["direct (1 MiB buffers, no kernel offload, cut by the addon)", directContender(programs.transfer, {}, "software")],
    [`direct (${lwipSize}, TAP offload)`, directContender(programs.transfer, lwipBuffers, true)],
    ["direct (defaults: 1 MiB buffers, TAP offload)", directContender(programs.transfer, {}, true)],
    ["Linux over veth (reference)", kernelContender(programs.transfer)],
  ]
  const contenders: Array<{ stack: string; contender: Contender; samples: Samples }> = []
  for (const [stack, setup] of stacks) contenders.push({ stack, contender: yield* setup, samples: { rx: [], tx: [], rr: [] } })
  const repeated: Array<string> = []
  /**
   * RUNS rounds of `run` (one round: every stack once, its samples), kept
   * into each stack's samples; a round with too much stolen time is run again.
   */
  const rounds = <K extends keyof Samples>(what: string, runners: typeof contenders, kinds: ReadonlyArray<K>, run: (contender: Contender) => Effect.Effect<Record<K, Sample>, unknown>) =>
    Effect.gen(function* () {
      for (let kept = 0, again = 0; kept < RUNS;) {
        console.log(`${what} round ${kept + 1} of ${RUNS}…`)
        const round: Array<Record<K, Sample>> = []
        for (const { contender } of runners) round.push(yield* run(contender))
        const stolen = Math.max(...round.flatMap((samples) => kinds.map((kind) => samples[kind].stolen)))
        if (stolen > STEAL_LIMIT && again < REPEATS) {
          again++
          repeated.push(`${what} round ${kept + 1}: the hypervisor took ${Math.round(stolen * 100)}% of the machine`)
          console.log(`  run again: the hypervisor took ${Math.round(stolen * 100)}% of the machine`)
          continue
        }
        runners.forEach(({ samples }, i) => kinds.forEach((kind) => samples[kind].push(round[i]![kind])))
        kept++
      }
    })
  console.log("bulk warm-up (not counted)…")
  for (const { contender } of contenders) yield* contender.bulk
  yield* rounds("bulk", contenders, ["rx", "tx"], (contender) => contender.bulk)
  const responders = contenders.filter(({ stack }) => stack !== stacks[0]![0])
  console.log("request/response warm-up (not counted)…")
  for (const { contender } of responders) yield* contender.rr
  yield* rounds("request/response", responders, ["rr"], (contender) => Effect.map(contender.rr, (rr) => ({ rr })))
  const results = contenders.map(({ stack, samples }) => ({ stack, samples }))
  const bulkRows = results.flatMap(({ stack, samples }) =>
    (["rx", "tx"] as const).map((dir) => ({
      stack,
      direction: dir === "rx" ? "kernel → stack" : "stack → kernel",
      "MB/s": summary(samples[dir].map((s) => s.rate)),
      "stack cores": summary(samples[dir].map((s) => s.stackCores), 2),
      "machine cores": summary(samples[dir].map((s) => s.machineCores), 2),
      stolen: summary(samples[dir].map((s) => s.stolen), 2),
    })))
  const rrRows = results.filter(({ samples }) => samples.rr.length > 0).map(({ stack, samples }) => ({
    stack,
    "connections/s": summary(samples.rr.map((s) => s.rate), 0),
    "p50 ms": summary(samples.rr.map((s) => s.p50!), 3),
    "p99 ms": summary(samples.rr.map((s) => s.p99!), 3),
    "stack cores": summary(samples.rr.map((s) => s.stackCores), 2),
    stolen: summary(samples.rr.map((s) => s.stolen), 2),
  }))
  console.table(bulkRows.map((r) => ({ ...r, "MB/s": cell(r["MB/s"]), "stack cores": cell(r["stack cores"]), "machine cores": cell(r["machine cores"]), stolen: cell(r.stolen) })))
  console.table(rrRows.map((r) => ({ stack: r.stack, "connections/s": cell(r["connections/s"]), "p50 ms": cell(r["p50 ms"]), "p99 ms": cell(r["p99 ms"]), "stack cores": cell(r["stack cores"]), stolen: cell(r.stolen) })))

  const ceiling = results[0]!.samples.rx
  const lwip = results.find((r) => r.stack.startsWith("lwIP"))?.samples
  const ratios = results.filter((r) => r.stack.startsWith("direct")).flatMap(({ stack, samples }) =>
    (["rx", "tx"] as const).flatMap((dir) => {
      const direction = dir === "rx" ? "kernel → stack" : "stack → kernel"
      const against = (name: string, theirs: ReadonlyArray<Sample>, goal: number) => {
        const ratio = pairedRatio(samples[dir], theirs)
        return { stack, direction, against: name, ratio, goal: `≥ ${goal}`, met: ratio.median! >= goal }
      }
      return [against("raw TAP ceiling", ceiling, 0.6), ...(lwip === undefined ? [] : [against("lwIP", lwip[dir], 1)])]
    }))
  console.table(ratios.map((r) => ({ ...r, ratio: cell(r.ratio) })))
  if (repeated.length > 0) console.log(`Run again (more than ${STEAL_LIMIT * 100}% stolen): ${repeated.join("; ")}.`)
  console.log("The TAP offload rows move up to 64 KiB per TAP frame (the kernel cuts it to MSS-sized segments); " +
    "the other rows, the ceiling and lwIP move one 1514-byte frame per segment, cut from TCP's bursts by the addon (in C), " +
    "by our IPv4 (in JavaScript) or not at all: the row as lwIP (its MSS and window, no kernel offload) is the like-for-like comparison.")
  writeResults("tcp", {
    method: `kernel side in a namespace; bulk: ${SECONDS} s one way, 256 KiB writes, rate by the receiver first to last byte; ` +
      `request/response: the kernel connects, writes 32 bytes, reads them back, closes, for ${RR_SECONDS} s; one uncounted warm-up run per stack (per process for ours, ${PROCESSES_PER_ROW} per row taking the rounds in turn) before the bulk rounds and one before the request/response rounds; ` +
      `${RUNS} runs each, median (min–max); ratios: per round (ours over theirs in the same round), then median (min–max); stack cores: CPU of the process running the stack under test; ` +
      `machine cores: the whole machine (${"both ends and the kernel"}), not counting time the hypervisor took; ` +
      `stolen: the share of the machine's CPU time the hypervisor took (a run with much of it ran slow); a round in which it took more than ${STEAL_LIMIT * 100}% during any stack's run was run again (at most ${REPEATS} times); ` +
      `ceiling: bench/tapEcho.ts, 1514-byte frames, addon`,
    ...(lwipNote === undefined ? {} : { lwip: lwipNote }),
    repeated,
    bulk: bulkRows,
    requestResponse: rrRows,
    ratios,
    runs: results,
  })
})

Effect.runPromise(Effect.scoped(main)).catch((error) => {
  console.error(error)
  process.exit(1)
})
