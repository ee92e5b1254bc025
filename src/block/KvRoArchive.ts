/**
 * A `KvRo` store read from a tar archive on a `Block` device (MirageOS
 * `generic_kv_ro ~key:archive`): ustar, GNU long names and pax headers.
 */
import { Effect, Layer } from "effect"
import { Block } from "./Block.ts"
import { makeByteReader } from "./ByteReader.ts"
import { KvCorrupt, KvRo } from "./KvRo.ts"
import type { KvRoError } from "./KvRo.ts"
import { corruptIf, insertNode, makeDictionary, makeTreeKvRo } from "./KvTree.ts"
import { isZeroBlock, parseHeader, parsePaxRecords, tarBlock } from "./TarFormat.ts"

const format = "tar"

/** The largest GNU long name or pax header accepted (a hostile archive cannot make us buffer more). */
const maxMetadataBytes = 1 << 20

/** A member path as key segments: leading `/`, `./` and empty segments are dropped, as GNU tar does. */
const segmentsOf = (name: string): Array<string> => name.split("/").filter((segment) => segment !== "" && segment !== ".")

/** A pax number (`size`, `mtime`), or `undefined` when it is absent; `NaN` when it is malformed. */
const paxNumber = (records: ReadonlyMap<string, string> | undefined, key: string): number | undefined => {
  const text = records?.get(key)
  return text === undefined ? undefined : /^\d+(\.\d+)?$/.test(text) ? Number(text) : NaN
}

/**
 * Serve the tar archive on the `Block` device. Every header is read and
 * checked once, when the layer is built, into an index; values are then read
 * straight from the device. Regular files and directories become values and
 * dictionaries (parent directories missing from the archive are implied, with
 * time 0); links, devices and global pax headers are skipped; when a path
 * appears twice the later member wins, as on extraction. A header that does
 * not check, a member extending past the device or a path with `..` fails
 * the layer with `KvCorrupt`.
 */
export const layerArchive: Layer.Layer<KvRo, KvRoError, Block> = Layer.effect(KvRo, Effect.gen(function* () {
  const reader = yield* makeByteReader(yield* Block, format)
  const root = makeDictionary<number>(0)
  const corrupt = (offset: number, reason: string) => new KvCorrupt({ format, reason: `at byte ${offset}: ${reason}` })
  let longName: string | undefined
  let pax: ReadonlyMap<string, string> | undefined
  for (let offset = 0; offset + tarBlock <= reader.size;) {
    const block = yield* reader.readAhead(offset, tarBlock)
    if (isZeroBlock(block)) break
    const header = parseHeader(block)
    if (typeof header === "string") return yield* corrupt(offset, header)
    const size = paxNumber(pax, "size") ?? header.size
    const dataOffset = offset + tarBlock
    if (!Number.isSafeInteger(size) || dataOffset + size > reader.size) {
      return yield* corrupt(offset, `the member ${JSON.stringify(header.name)} of ${size} bytes extends past the ${reader.size}-byte device`)
    }
    if (header.type === "L" || header.type === "x") {
      if (size > maxMetadataBytes) return yield* corrupt(offset, `a ${size}-byte long name or pax header`)
      const data = yield* reader.readAhead(dataOffset, size)
      const records = header.type === "x" ? parsePaxRecords(data) : undefined
      if (typeof records === "string") return yield* corrupt(offset, records)
      if (records === undefined) longName = new TextDecoder().decode(data).replace(/\0+$/, "")
      else pax = records
    } else if (header.type !== "g" && header.type !== "K") {
      const path = pax?.get("path") ?? longName ?? header.name
      const mtime = (paxNumber(pax, "mtime") ?? header.mtime) * 1000
      if (Number.isNaN(mtime)) return yield* corrupt(offset, "a pax mtime is malformed")
      const segments = segmentsOf(path)
      if (header.type === "5") yield* corruptIf(format, insertNode(root, segments, makeDictionary(Math.round(mtime))))
      else if (header.type === "0" || header.type === "7") {
        yield* corruptIf(format, insertNode(root, segments, { kind: "value", size, mtime: Math.round(mtime), location: dataOffset }))
      }
      longName = undefined
      pax = undefined
    }
    offset = dataOffset + Math.ceil(size / tarBlock) * tarBlock
  }
  return makeTreeKvRo(root, (value, start, end) => reader.read(value.location + start, end - start))
}))
