/**
 * A `KvRo` store read from a FAT12/16/32 file system on a `Block` device
 * (MirageOS `generic_kv_ro ~key:fat`), with VFAT long names and
 * subdirectories.
 */
import { Effect, Layer } from "effect"
import { Block } from "./Block.ts"
import { makeByteReader } from "./ByteReader.ts"
import type { ByteReader } from "./ByteReader.ts"
import { clusterOffset, fatTableBytes, parseBootSector, parseDirectory, walkChain } from "./FatFormat.ts"
import type { ClusterRun, FatGeometry } from "./FatFormat.ts"
import { KvCorrupt, KvRo } from "./KvRo.ts"
import type { KvRoError } from "./KvRo.ts"
import { corruptIf, insertNode, makeDictionary, makeTreeKvRo } from "./KvTree.ts"
import type { TreeValue } from "./KvTree.ts"

/** Where a file's bytes are: its cluster runs, or why its chain is unusable. */
type FatLocation = { readonly runs: ReadonlyArray<ClusterRun> } | { readonly problem: string }

const format = "FAT"

/**
 * Read clusters `[firstIndex, endIndex)` of a chain into one buffer, one
 * device read per run of consecutive clusters.
 */
const readClusters = (
  reader: ByteReader,
  geometry: FatGeometry,
  runs: ReadonlyArray<ClusterRun>,
  firstIndex: number,
  endIndex: number,
): Effect.Effect<Uint8Array, KvRoError> => {
  const clusterBytes = geometry.clusterBytes
  const buffer = new Uint8Array((endIndex - firstIndex) * clusterBytes)
  const reads: Array<Effect.Effect<void, KvRoError>> = []
  let index = 0
  for (const run of runs) {
    const low = Math.max(index, firstIndex)
    const high = Math.min(index + run.count, endIndex)
    if (low < high) {
      const target = buffer.subarray((low - firstIndex) * clusterBytes, (high - firstIndex) * clusterBytes)
      reads.push(reader.readInto(clusterOffset(geometry, run.first + low - index), target))
    }
    index += run.count
  }
  return Effect.as(Effect.all(reads, { discard: true }), buffer)
}

/** The value bytes `[start, end)` of a file. */
const readFile = (reader: ByteReader, geometry: FatGeometry) =>
  (value: TreeValue<FatLocation>, start: number, end: number): Effect.Effect<Uint8Array, KvRoError> => {
    if ("problem" in value.location) return Effect.fail(new KvCorrupt({ format, reason: value.location.problem }))
    const firstIndex = Math.floor(start / geometry.clusterBytes)
    const endIndex = Math.ceil(end / geometry.clusterBytes)
    const skip = start - firstIndex * geometry.clusterBytes
    return Effect.map(
      readClusters(reader, geometry, value.location.runs, firstIndex, endIndex),
      (buffer) => buffer.subarray(skip, skip + end - start),
    )
  }

/** The number of clusters in a chain. */
const clusterTotal = (runs: ReadonlyArray<ClusterRun>): number => runs.reduce((total, run) => total + run.count, 0)

/**
 * Serve the FAT file system on the `Block` device. The boot sector, the first
 * FAT and every directory are read and checked once, when the layer is built
 * (a damaged boot sector, FAT or directory fails the layer with `KvCorrupt`;
 * a damaged file chain fails only reads of that file). Names are matched
 * exactly (case-sensitively), long names first; FAT times are read as UTC.
 * The whole first FAT is kept in memory (4 bytes per cluster at most).
 */
export const layerFat: Layer.Layer<KvRo, KvRoError, Block> = Layer.effect(KvRo, Effect.gen(function* () {
  const reader = yield* makeByteReader(yield* Block, format)
  const boot = yield* reader.read(0, Math.min(512, reader.size))
  const geometry = parseBootSector(boot, reader.size)
  if (typeof geometry === "string") return yield* new KvCorrupt({ format, reason: geometry })
  const fat = yield* reader.read(geometry.reservedSectors * geometry.bytesPerSector, fatTableBytes(geometry))
  const root = makeDictionary<FatLocation>(0)
  const directoryClusters = new Set<number>()
  const readDirectory = (firstCluster: number): Effect.Effect<Uint8Array, KvRoError> => {
    const runs = walkChain(geometry, fat, firstCluster)
    if (typeof runs === "string") return Effect.fail(new KvCorrupt({ format, reason: runs }))
    for (const run of runs) {
      for (let cluster = run.first; cluster < run.first + run.count; cluster++) {
        if (directoryClusters.has(cluster)) {
          return Effect.fail(new KvCorrupt({ format, reason: `directory cluster ${cluster} is used twice (a directory cycle?)` }))
        }
        directoryClusters.add(cluster)
      }
    }
    return readClusters(reader, geometry, runs, 0, clusterTotal(runs))
  }
  const pending: Array<{ readonly segments: ReadonlyArray<string>; readonly bytes: Uint8Array }> = [{
    segments: [],
    bytes: geometry.type === 32
      ? yield* readDirectory(geometry.rootCluster)
      : yield* reader.read(geometry.rootDirOffset, geometry.rootDirBytes),
  }]
  for (let directory = pending.pop(); directory !== undefined; directory = pending.pop()) {
    for (const entry of parseDirectory(directory.bytes, geometry.type)) {
      const segments = [...directory.segments, entry.name]
      if (entry.isDirectory) {
        yield* corruptIf(format, insertNode(root, segments, makeDictionary(entry.mtime)))
        pending.push({ segments, bytes: yield* readDirectory(entry.firstCluster) })
        continue
      }
      const clusters = Math.ceil(entry.size / geometry.clusterBytes)
      const runs = clusters === 0 ? [] : walkChain(geometry, fat, entry.firstCluster, clusters)
      const location = typeof runs === "string" ? { problem: `${segments.join("/")}: ${runs}` } : { runs }
      yield* corruptIf(format, insertNode(root, segments, { kind: "value", size: entry.size, mtime: entry.mtime, location }))
    }
  }
  return makeTreeKvRo(root, readFile(reader, geometry))
}))
