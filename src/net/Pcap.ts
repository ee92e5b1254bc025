/**
 * pcap capture files (the classic libpcap format, microsecond timestamps,
 * LINKTYPE_ETHERNET) and `withPcap`, a tee that records every frame a
 * `Netif` receives or sends — the `--pcap=FILE` key. `tshark -r FILE` reads it.
 */
import { Clock, Effect, Layer, Stream } from "effect"
import { closeSync, openSync, writeSync } from "node:fs"
import { Netif, NetifCaptureFailed } from "./Netif.ts"

/** Magic number of a microsecond-resolution pcap file. */
export const PCAP_MAGIC = 0xa1b2c3d4
/** Link type of Ethernet frames. */
export const LINKTYPE_ETHERNET = 1
/** Bytes of the file header. */
export const PCAP_FILE_HEADER = 24
/** Bytes of a record header. */
export const PCAP_RECORD_HEADER = 16
/** Largest frame recorded whole; longer ones are truncated in the file. */
export const PCAP_SNAPLEN = 65535

/** The 24-byte file header (little-endian, version 2.4, Ethernet). */
export const pcapFileHeader = (snaplen = PCAP_SNAPLEN): Uint8Array => {
  const bytes = new Uint8Array(PCAP_FILE_HEADER)
  const view = new DataView(bytes.buffer)
  view.setUint32(0, PCAP_MAGIC, true)
  view.setUint16(4, 2, true)
  view.setUint16(6, 4, true)
  view.setInt32(8, 0, true) // thiszone: UTC
  view.setUint32(12, 0, true) // sigfigs
  view.setUint32(16, snaplen, true)
  view.setUint32(20, LINKTYPE_ETHERNET, true)
  return bytes
}

/** Records of a batch of frames, all stamped `timeMicros`, in one buffer. */
export const pcapRecords = (frames: ReadonlyArray<Uint8Array>, timeMicros: bigint, snaplen = PCAP_SNAPLEN): Uint8Array => {
  let total = 0
  for (const frame of frames) total += PCAP_RECORD_HEADER + Math.min(frame.length, snaplen)
  const bytes = new Uint8Array(total)
  const view = new DataView(bytes.buffer)
  const seconds = Number(timeMicros / 1_000_000n)
  const micros = Number(timeMicros % 1_000_000n)
  let offset = 0
  for (const frame of frames) {
    const captured = Math.min(frame.length, snaplen)
    view.setUint32(offset, seconds, true)
    view.setUint32(offset + 4, micros, true)
    view.setUint32(offset + 8, captured, true)
    view.setUint32(offset + 12, frame.length, true)
    bytes.set(captured === frame.length ? frame : frame.subarray(0, captured), offset + PCAP_RECORD_HEADER)
    offset += PCAP_RECORD_HEADER + captured
  }
  return bytes
}

/** One record read back from a pcap file. */
export interface PcapRecord {
  readonly timeMicros: bigint
  readonly originalLength: number
  readonly frame: Uint8Array
}

/** Parses a little-endian microsecond pcap file; throws on anything else or on truncation. */
export const readPcap = (bytes: Uint8Array): { readonly linkType: number; readonly records: ReadonlyArray<PcapRecord> } => {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (bytes.length < PCAP_FILE_HEADER || view.getUint32(0, true) !== PCAP_MAGIC)
    throw new Error("not a little-endian microsecond pcap file")
  const records: Array<PcapRecord> = []
  let offset = PCAP_FILE_HEADER
  while (offset < bytes.length) {
    if (offset + PCAP_RECORD_HEADER > bytes.length) throw new Error(`truncated record header at ${offset}`)
    const timeMicros = BigInt(view.getUint32(offset, true)) * 1_000_000n + BigInt(view.getUint32(offset + 4, true))
    const captured = view.getUint32(offset + 8, true)
    const start = offset + PCAP_RECORD_HEADER
    if (start + captured > bytes.length) throw new Error(`truncated record data at ${start}`)
    records.push({ timeMicros, originalLength: view.getUint32(offset + 12, true), frame: bytes.subarray(start, start + captured) })
    offset = start + captured
  }
  return { linkType: view.getUint32(20, true), records }
}

/**
 * Wraps the `Netif` below it: every received and every sent frame is also
 * appended to the pcap file at `path` (created or truncated; closed on release).
 * Frames are stamped with Effect's `Clock`, once per batch. The tee does not
 * pass on the device's transmit checksum offload, so the stack sums what it
 * sends and the capture shows the checksums that go on the wire.
 */
export const withPcap = (path: string): Layer.Layer<Netif, NetifCaptureFailed, Netif> =>
  Layer.effect(Netif, Effect.gen(function* () {
    const inner = yield* Netif
    const clock = yield* Clock.Clock
    const failed = (cause: unknown) =>
      new NetifCaptureFailed({ path, reason: cause instanceof Error ? cause.message : String(cause) })
    const fd = yield* Effect.acquireRelease(
      Effect.try({ try: () => openSync(path, "w"), catch: failed }),
      (fd) => Effect.sync(() => closeSync(fd)),
    )
    const append = (bytes: Uint8Array): void => {
      for (let offset = 0; offset < bytes.length;) offset += writeSync(fd, bytes, offset)
    }
    yield* Effect.try({ try: () => append(pcapFileHeader()), catch: failed })
    const record = (frames: ReadonlyArray<Uint8Array>) =>
      Effect.try({ try: () => append(pcapRecords(frames, clock.currentTimeNanosUnsafe() / 1000n)), catch: failed })
    const writeBatch = (frames: ReadonlyArray<Uint8Array>) =>
      Effect.flatMap(record(frames), () => inner.writeBatch(frames))
    return Netif.of({
      mac: inner.mac,
      mtu: inner.mtu,
      ...(inner.tcpSegmentation === undefined ? {} : { tcpSegmentation: inner.tcpSegmentation }),
      frames: Stream.tap(inner.frames, record),
      // Records are written synchronously, so the capture keeps no view of a batch.
      ...(inner.release === undefined ? {} : { release: inner.release }),
      writeBatch,
      write: (frame) => writeBatch([frame]),
      stats: inner.stats,
    })
  }))
