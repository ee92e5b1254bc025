/**
 * Micro-benchmark of the wire formats (src/net/wire).
 *
 *   node_modules/.bin/node bench/wire.ts
 *
 * Prints ns/op and Mpps (and the data rate where it means something) for
 * parsing a full-size Ethernet/IPv4/UDP frame with every checksum verified,
 * the Internet checksum of 1460 bytes, and emitting Ethernet/IPv4/TCP headers;
 * writes the figures to bench/results/wire.json.
 */
import { mkdirSync, writeFileSync } from "node:fs"
import { cpus } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import * as Checksum from "../src/net/wire/checksum.ts"
import { simdSlab } from "../src/net/wire/simd.ts"
import * as Ethernet from "../src/net/wire/ethernet.ts"
import * as Ipv4 from "../src/net/wire/ipv4.ts"
import * as Tcp from "../src/net/wire/tcp.ts"
import * as Udp from "../src/net/wire/udp.ts"

const SRC_MAC = 0x020000000001
const DST_MAC = 0x525400123456
const SRC_IP = 0x0a000002
const DST_IP = 0x0a000001

/** Runs `op` (which returns a number, summed so the work cannot be optimised away). */
interface Case {
  readonly name: string
  /** Bytes processed per op, for the data rate (0: not meaningful). */
  readonly bytes: number
  readonly op: () => number
}

let sink = 0

const timeRound = (op: () => number, iterations: number): number => {
  let acc = 0
  const start = process.hrtime.bigint()
  for (let i = 0; i < iterations; i++) acc += op()
  const elapsed = Number(process.hrtime.bigint() - start)
  sink += acc
  return elapsed / iterations
}

interface Result {
  readonly name: string
  readonly nsPerOp: number
  readonly minNsPerOp: number
  readonly mpps: number
  readonly gbitPerS: number | null
  readonly iterationsPerRound: number
  readonly rounds: number
}

const ROUNDS = 15
const ROUND_MS = 60

const measure = (c: Case): Result => {
  // Warm up (lets the JIT optimise), then size rounds to ~ROUND_MS each.
  let iterations = 1000
  for (;;) {
    const ns = timeRound(c.op, iterations) * iterations
    if (ns > 20e6) break
    iterations *= 4
  }
  const perOp = timeRound(c.op, iterations)
  iterations = Math.max(1000, Math.round((ROUND_MS * 1e6) / perOp))
  const samples: Array<number> = []
  for (let r = 0; r < ROUNDS; r++) samples.push(timeRound(c.op, iterations))
  samples.sort((a, b) => a - b)
  const median = samples[Math.floor(samples.length / 2)]!
  return {
    name: c.name,
    nsPerOp: median,
    minNsPerOp: samples[0]!,
    mpps: 1e3 / median,
    gbitPerS: c.bytes > 0 ? (c.bytes * 8) / median : null,
    iterationsPerRound: iterations,
    rounds: ROUNDS,
  }
}

// ---------------------------------------------------------------------------
// Fixtures

/** A full-size frame: 14 + IPv4 total length 1500 (20 + UDP 8 + 1472 data). */
const udpFrame = (() => {
  const payload = 1472
  const backing = new Uint8Array(4096)
  // As a NIC ring would hand it: a view at a non-zero offset of a larger buffer.
  const frame = backing.subarray(2, 2 + Ethernet.HEADER_LENGTH + 20 + 8 + payload)
  for (let i = 0; i < payload; i++) frame[42 + i] = (i * 131 + 7) & 0xff
  Ethernet.emit({ destination: DST_MAC, source: SRC_MAC, etherType: Ethernet.EtherType.Ipv4 }, frame, 0)
  const ip = { identification: 1, dontFragment: true, ttl: 64, protocol: Ipv4.Protocol.Udp, source: SRC_IP }
  Ipv4.emit({ ...ip, destination: DST_IP, payloadLength: 8 + payload }, frame, 14)
  Udp.emit({ sourcePort: 40000, destinationPort: 5001, payloadLength: payload }, frame, 34, SRC_IP, DST_IP)
  return frame
})()

/** A 66-byte TCP ACK frame with timestamps. */
const ackFrame = (() => {
  const frame = new Uint8Array(66)
  Ethernet.emit({ destination: DST_MAC, source: SRC_MAC, etherType: Ethernet.EtherType.Ipv4 }, frame, 0)
  const tcp = {
    sourcePort: 8080,
    destinationPort: 54321,
    sequenceNumber: 1,
    acknowledgmentNumber: 2,
    flags: Tcp.Flags.ACK,
    window: 501,
    options: { timestamps: { tsVal: 3, tsEcr: 4 } },
    payloadLength: 0,
  }
  Tcp.emit(tcp, frame, 34, SRC_IP, DST_IP)
  const ip = { identification: 2, dontFragment: true, ttl: 64, protocol: Ipv4.Protocol.Tcp, source: SRC_IP }
  Ipv4.emit({ ...ip, destination: DST_IP, payloadLength: 32 }, frame, 14)
  return frame
})()

const parseUdpFrame = (frame: Uint8Array): number => {
  const eth = Ethernet.parse(frame)
  if (eth._tag === "Rejected") throw new Error(eth.reason)
  const ip = Ipv4.parse(eth.payload)
  if (ip._tag === "Rejected") throw new Error(ip.reason)
  const udp = Udp.parse(ip.payload, ip.source, ip.destination)
  if (udp._tag === "Rejected") throw new Error(udp.reason)
  return udp.payload.length
}

const parseTcpFrame = (frame: Uint8Array): number => {
  const eth = Ethernet.parse(frame)
  if (eth._tag === "Rejected") throw new Error(eth.reason)
  const ip = Ipv4.parse(eth.payload)
  if (ip._tag === "Rejected") throw new Error(ip.reason)
  const tcp = Tcp.parse(ip.payload, ip.source, ip.destination)
  if (tcp._tag === "Rejected") throw new Error(tcp.reason)
  return tcp.acknowledgmentNumber + (tcp.options.timestamps?.tsVal ?? 0)
}

const checksumData = udpFrame.subarray(54, 54 + 1460) // where a TCP payload sits in a frame
const checksumAligned = new Uint8Array(1460).map((_, i) => (i * 37) & 0xff)
/** A frame's TCP payload in frame-pool memory (`simdSlab`): summed with WebAssembly SIMD. */
const checksumInPool = simdSlab(65536).subarray(54, 54 + 1460)
checksumInPool.set(checksumData)

const txBuffer = new Uint8Array(2048).subarray(2)
let sequence = 0
const emitTcpHeaders = (payloadLength: number): number => {
  sequence = (sequence + 1448) >>> 0
  const tcpLength = Tcp.emit(
    {
      sourcePort: 8080,
      destinationPort: 54321,
      sequenceNumber: sequence,
      acknowledgmentNumber: 12345,
      flags: Tcp.Flags.ACK | Tcp.Flags.PSH,
      window: 501,
      options: { timestamps: { tsVal: sequence, tsEcr: 7 } },
      payloadLength,
    },
    txBuffer,
    34,
    SRC_IP,
    DST_IP,
  )
  Ipv4.emit(
    {
      identification: sequence & 0xffff,
      dontFragment: true,
      ttl: 64,
      protocol: Ipv4.Protocol.Tcp,
      source: SRC_IP,
      destination: DST_IP,
      payloadLength: tcpLength + payloadLength,
    },
    txBuffer,
    14,
  )
  const ethernet = { destination: DST_MAC, source: SRC_MAC, etherType: Ethernet.EtherType.Ipv4 }
  return Ethernet.emit(ethernet, txBuffer, 0) + tcpLength
}

const cases: ReadonlyArray<Case> = [
  {
    name: "parse eth+ipv4+udp, 1514-byte frame (checksums verified)",
    bytes: udpFrame.length,
    op: () => parseUdpFrame(udpFrame),
  },
  {
    name: "parse eth+ipv4+tcp, 66-byte ACK with timestamps",
    bytes: ackFrame.length,
    op: () => parseTcpFrame(ackFrame),
  },
  {
    name: "checksum 1460 bytes (in a frame, 2 mod 4 aligned)",
    bytes: 1460,
    op: () => Checksum.checksum(checksumData),
  },
  { name: "checksum 1460 bytes (4-byte aligned)", bytes: 1460, op: () => Checksum.checksum(checksumAligned) },
  { name: "checksum 1460 bytes (frame-pool memory, SIMD)", bytes: 1460, op: () => Checksum.checksum(checksumInPool) },
  { name: "emit eth+ipv4+tcp headers (ACK+TS, no payload)", bytes: 0, op: () => emitTcpHeaders(0) },
  {
    name: "emit eth+ipv4+tcp headers (ACK+TS, 1448-byte payload checksummed)",
    bytes: 0,
    op: () => emitTcpHeaders(1448),
  },
]

// Sanity: the fixtures parse.
parseUdpFrame(udpFrame)
parseTcpFrame(ackFrame)
emitTcpHeaders(1448)
if (Tcp.parse(txBuffer.subarray(34, 34 + 32 + 1448), SRC_IP, DST_IP)._tag === "Rejected") throw new Error("emit broken")

const results = cases.map(measure)

const pad = (s: string, n: number) => s.padEnd(n)
const lpad = (s: string, n: number) => s.padStart(n)
const width = Math.max(...results.map((r) => r.name.length))
const header = [pad("case", width), lpad("ns/op", 8), lpad("min ns", 8), lpad("Mpps", 7), lpad("Gbit/s", 7)]
console.log(header.join(" | "))
console.log(`${"-".repeat(width)}-|-${"-".repeat(8)}-|-${"-".repeat(8)}-|-${"-".repeat(7)}-|-${"-".repeat(7)}`)
for (const r of results) {
  console.log(
    [
      pad(r.name, width),
      lpad(r.nsPerOp.toFixed(1), 8),
      lpad(r.minNsPerOp.toFixed(1), 8),
      lpad(r.mpps.toFixed(2), 7),
      lpad(r.gbitPerS === null ? "-" : r.gbitPerS.toFixed(1), 7),
    ].join(" | "),
  )
}

const out = join(dirname(fileURLToPath(import.meta.url)), "results", "wire.json")
mkdirSync(dirname(out), { recursive: true })
writeFileSync(
  out,
  JSON.stringify(
    {
      benchmark: "wire",
      date: new Date().toISOString(),
      node: process.version,
      cpu: cpus()[0]?.model ?? "unknown",
      cpus: cpus().length,
      method: `median of ${ROUNDS} rounds of ~${ROUND_MS} ms after warm-up`,
      results,
    },
    null,
    2,
  ) + "\n",
)
console.log(`\nwrote ${out} (sink ${sink % 10})`)
