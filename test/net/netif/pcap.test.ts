import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import { TestClock } from "effect/testing"
import { execFileSync, spawnSync } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Netif } from "../../../src/net/Netif.ts"
import { Switch } from "../../../src/net/NetifSwitch.ts"
import { pcapFileHeader, pcapRecords, readPcap, withPcap } from "../../../src/net/Pcap.ts"
import { BROADCAST, collect, seqOf, settle, testFrame } from "./frames.ts"

const hasTshark = spawnSync("tshark", ["--version"], { stdio: "ignore" }).status === 0

describe("pcap", () => {
  it("writes a header and records that read back exactly", () => {
    const src = Uint8Array.of(2, 0, 0, 0, 0, 1)
    const frames = [testFrame(BROADCAST, src, 1, 60), testFrame(BROADCAST, src, 2, 1514)]
    const file = new Uint8Array([...pcapFileHeader(), ...pcapRecords(frames, 1_234_567_890n)])
    expect(Array.from(file.subarray(0, 4))).toEqual([0xd4, 0xc3, 0xb2, 0xa1])
    const { linkType, records } = readPcap(file)
    expect(linkType).toBe(1)
    expect(records.map((r) => [r.timeMicros, r.originalLength])).toEqual([[1_234_567_890n, 60], [1_234_567_890n, 1514]])
    expect(records.map((r) => r.frame)).toEqual(frames)
  })

  it("truncates frames beyond the snap length but keeps their original length", () => {
    const frame = testFrame(BROADCAST, BROADCAST, 3, 200)
    const { records } = readPcap(new Uint8Array([...pcapFileHeader(100), ...pcapRecords([frame], 0n, 100)]))
    expect(records[0]!.frame).toEqual(frame.subarray(0, 100))
    expect(records[0]!.originalLength).toBe(200)
  })

  it.effect("withPcap tees received and sent frames with Clock timestamps; tshark reads it", () =>
    Effect.gen(function* () {
      const dir = mkdtempSync(join(tmpdir(), "euk-pcap-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
      const path = join(dir, "tee.pcap")
      const sw = yield* Switch.make()
      const peer = yield* sw.port()
      yield* TestClock.adjust("1500 millis")
      yield* Effect.gen(function* () {
        const netif = yield* Netif
        const received = yield* collect(netif)
        yield* netif.writeBatch([testFrame(peer.mac, netif.mac, 1), testFrame(peer.mac, netif.mac, 2, 1514)])
        yield* peer.write(testFrame(netif.mac, peer.mac, 3, 98))
        yield* settle
        expect(received.map((r) => seqOf(r.frame))).toEqual([3])
      }).pipe(Effect.scoped, Effect.provide(withPcap(path).pipe(Layer.provide(sw.layer()))))
      const { records } = readPcap(readFileSync(path))
      expect(records.map((r) => [seqOf(r.frame), r.frame.length, r.timeMicros])).toEqual([
        [1, 64, 1_500_000n],
        [2, 1514, 1_500_000n],
        [3, 98, 1_500_000n],
      ])
      if (!hasTshark) {
        console.log("skipping the tshark check: tshark not installed (Debian: apt-get install -y tshark)")
        return
      }
      const listing = execFileSync("tshark", ["-r", path, "-T", "fields", "-e", "frame.len", "-e", "eth.type"], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
      })
      expect(listing.trim().split("\n")).toEqual(["64\t0x88b5", "1514\t0x88b5", "98\t0x88b5"])
    }))

  it.effect("withPcap passes on segmentation offload but not transmit checksum offload (the stack then sums what the capture shows)", () =>
    Effect.gen(function* () {
      const dir = mkdtempSync(join(tmpdir(), "euk-pcap-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
      const sw = yield* Switch.make()
      const port = yield* Layer.build(sw.layer())
      const offloading = Layer.succeed(Netif, Netif.of({ ...Context.get(port, Netif), tcpSegmentation: 65535, checksumOffload: true }))
      const tee = Context.get(yield* Layer.build(withPcap(join(dir, "tee.pcap")).pipe(Layer.provide(offloading))), Netif)
      expect(tee.tcpSegmentation).toBe(65535)
      expect(tee.checksumOffload).toBeUndefined()
    }))

  it.effect("a capture file that cannot be created is a typed error", () =>
    Effect.gen(function* () {
      const sw = yield* Switch.make()
      const error = yield* Effect.flip(Layer.build(withPcap("/nonexistent-dir/x.pcap").pipe(Layer.provide(sw.layer()))))
      expect(error._tag).toBe("NetifCaptureFailed")
      expect(error.message).toContain("/nonexistent-dir/x.pcap")
    }))
})
