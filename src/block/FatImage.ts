/**
 * Build a FAT file-system image from a directory, in TypeScript (MirageOS
 * `fat_of_files`): FAT12, FAT16 or FAT32 picked by size, VFAT long names,
 * subdirectories, file times kept. The image passes `fsck.fat -n` and reads
 * back with `mtools`.
 */
import { Effect } from "effect"
import { writeFile } from "node:fs/promises"
import { KvBuildError, scanDirectory } from "./DirectoryScan.ts"
import type { SourceEntry } from "./DirectoryScan.ts"
import { attributes, encodeDosTime, entryBytes, lfnCharOffsets, lfnCharsPerEntry, shortNameChecksum } from "./FatFormat.ts"
import type { FatType } from "./FatFormat.ts"

/** Choices for the image; by default the smallest image that holds the tree. */
export interface FatImageOptions {
  /** Force a FAT variant (FAT32 images are at least 33 MiB). */
  readonly fatType?: FatType
  /** Total image size in bytes (a multiple of 512); the tree must fit. */
  readonly bytes?: number
}

const sectorBytes = 512
const fatCount = 2
/** Cluster counts used for each variant, kept away from the limits where tools disagree. */
const clusterLimits: Record<FatType, readonly [number, number]> = { 12: [1, 4000], 16: [4200, 65000], 32: [66000, 0x0ffffff0] }
const allSectorsPerCluster = [1, 2, 4, 8, 16, 32, 64]
/** Cluster sizes tried for each variant when none is forced, smallest first. */
const sectorsPerClusterChoices: Record<FatType, ReadonlyArray<number>> = { 12: [1, 2, 4, 8], 16: allSectorsPerCluster, 32: allSectorsPerCluster }
/** The end-of-chain mark written for each variant (the media mark in entry 0 is 7 less). */
const endOfChainMarks: Record<FatType, number> = { 12: 0xfff, 16: 0xffff, 32: 0x0fffffff }

/** A directory entry to write: the short name (11 bytes) and, when needed, the long name. */
interface NamedEntry {
  readonly source: SourceEntry
  readonly shortName: Uint8Array
  /** UTF-16 code units of the long name, or `undefined` when the short name is exact. */
  readonly longName: Array<number> | undefined
}

/** A directory of the tree with its entries named. */
interface PlannedDirectory {
  readonly source: SourceEntry
  readonly children: Array<NamedEntry>
  /** Entries it occupies, including `.`/`..` and long-name entries. */
  readonly entryCount: number
}

const shortChars = /^[A-Z0-9!#$%&'()@^_`{}~-]+$/
const forbiddenLongChars = /["*/:<>?\\|\u0000-\u001f]/

/** The 11-byte short name `base` + `extension`, space padded. */
const shortNameBytes = (base: string, extension: string): Uint8Array =>
  new TextEncoder().encode(base.padEnd(8, " ") + extension.padEnd(3, " "))

/** Upper-case `text` and keep only characters allowed in short names (others become `_`; spaces and dots go). */
const shortBasis = (text: string): string =>
  [...text.toUpperCase()].filter((c) => c !== " " && c !== ".").map((c) => (shortChars.test(c) ? c : "_")).join("")

/** Whether `base.extension` is already a valid upper-case 8.3 name (it needs no long name). */
const isExactShortName = (base: string, extension: string): boolean =>
  shortChars.test(base) && base.length <= 8 && (extension === "" || (shortChars.test(extension) && extension.length <= 3))

/** Give every child of a directory a unique short name, and a long name unless its name is a valid upper-case 8.3 name. */
const nameEntries = (children: ReadonlyArray<SourceEntry>): Array<NamedEntry> | string => {
  const taken = new Set<string>()
  const folded = new Set<string>()
  const named: Array<NamedEntry> = []
  for (const source of children) {
    const name = source.segments[source.segments.length - 1]!
    const units = Array.from({ length: name.length }, (_, i) => name.charCodeAt(i))
    if (units.length > 255) return `the name ${JSON.stringify(name)} is longer than 255 UTF-16 units`
    if (forbiddenLongChars.test(name) || name.endsWith(" ") || name.endsWith(".")) return `the name ${JSON.stringify(name)} is not allowed on FAT`
    if (folded.has(name.toUpperCase())) return `two names differ only in case near ${JSON.stringify(name)} (FAT ignores case)`
    folded.add(name.toUpperCase())
    const dot = name.lastIndexOf(".")
    const [base, extension] = dot > 0 ? [name.slice(0, dot), name.slice(dot + 1)] : [name, ""]
    const exact = base.padEnd(8) + extension.padEnd(3)
    if (isExactShortName(base, extension) && !taken.has(exact)) {
      taken.add(exact)
      named.push({ source, shortName: shortNameBytes(base, extension), longName: undefined })
      continue
    }
    const basis = shortBasis(base) || "_"
    const shortExtension = shortBasis(extension).slice(0, 3)
    for (let n = 1; ; n++) {
      const tail = `~${n}`
      const candidate = basis.slice(0, 8 - tail.length) + tail
      const key = candidate.padEnd(8) + shortExtension.padEnd(3)
      if (!taken.has(key)) {
        taken.add(key)
        named.push({ source, shortName: shortNameBytes(candidate, shortExtension), longName: units })
        break
      }
    }
  }
  return named
}

/** Long-name entries a name needs. */
const longEntryCount = (entry: NamedEntry): number =>
  entry.longName === undefined ? 0 : Math.ceil(entry.longName.length / lfnCharsPerEntry)

/** Group the scanned tree into directories with named entries. */
const planDirectories = (entries: ReadonlyArray<SourceEntry>): Array<PlannedDirectory> | string => {
  const childrenOf = new Map<string, Array<SourceEntry>>()
  for (const entry of entries) {
    if (entry.kind === "dictionary") childrenOf.set(entry.segments.join("/"), [])
    if (entry.segments.length > 0) childrenOf.get(entry.segments.slice(0, -1).join("/"))?.push(entry)
  }
  const planned: Array<PlannedDirectory> = []
  for (const source of entries) {
    if (source.kind !== "dictionary") continue
    const children = nameEntries(childrenOf.get(source.segments.join("/")) ?? [])
    if (typeof children === "string") return children
    const dots = source.segments.length === 0 ? 0 : 2
    planned.push({ source, children, entryCount: dots + children.reduce((n, child) => n + 1 + longEntryCount(child), 0) })
  }
  return planned
}

/** The layout of the volume to write. */
interface Layout {
  readonly type: FatType
  readonly sectorsPerCluster: number
  readonly reservedSectors: number
  readonly rootEntries: number
  readonly fatSectors: number
  readonly totalSectors: number
  readonly clusterCount: number
}

/** Sectors one FAT needs for `clusterCount` clusters. */
const fatSectorsFor = (type: FatType, clusterCount: number): number =>
  Math.ceil(Math.ceil(((clusterCount + 2) * type) / 8) / sectorBytes)

/** Clusters the tree needs with clusters of `clusterBytes` (directories and non-empty files). */
const clustersNeeded = (type: FatType, directories: ReadonlyArray<PlannedDirectory>, clusterBytes: number): number =>
  directories.reduce((total, directory) => {
    const own = directory.source.segments.length === 0 && type !== 32 ? 0 : Math.max(1, Math.ceil((directory.entryCount * entryBytes) / clusterBytes))
    const files = directory.children.reduce((n, child) => n + (child.source.kind === "value" ? Math.ceil(child.source.data.length / clusterBytes) : 0), 0)
    return total + own + files
  }, 0)

/** The first layout (variant, then cluster size) that holds the tree, within `options`. */
const chooseLayout = (directories: ReadonlyArray<PlannedDirectory>, options: FatImageOptions): Layout | string => {
  const rootCount = directories[0]?.entryCount ?? 0
  const types: ReadonlyArray<FatType> = options.fatType === undefined ? [12, 16, 32] : [options.fatType]
  if (options.bytes !== undefined && (options.bytes % sectorBytes !== 0 || options.bytes <= 0)) return `the size ${options.bytes} is not a positive multiple of 512`
  for (const type of types) {
    const [minimum, maximum] = clusterLimits[type]
    const reservedSectors = type === 32 ? 32 : 1
    const rootEntries = type === 32 ? 0 : Math.max(512, Math.ceil(rootCount / 16) * 16)
    if (rootEntries > 0xffff) return `the root directory needs ${rootCount} entries, more than FAT${type} allows`
    const rootSectors = (rootEntries * entryBytes) / sectorBytes
    for (const sectorsPerCluster of options.fatType === undefined ? sectorsPerClusterChoices[type] : allSectorsPerCluster) {
      const needed = clustersNeeded(type, directories, sectorsPerCluster * sectorBytes)
      const fixed = reservedSectors + rootSectors
      let clusterCount = Math.max(needed, minimum)
      let fatSectors = fatSectorsFor(type, clusterCount)
      let totalSectors = fixed + fatCount * fatSectors + clusterCount * sectorsPerCluster
      if (options.bytes !== undefined) {
        totalSectors = options.bytes / sectorBytes
        fatSectors = fatSectorsFor(type, Math.max(0, Math.floor((totalSectors - fixed) / sectorsPerCluster)))
        clusterCount = Math.floor((totalSectors - fixed - fatCount * fatSectors) / sectorsPerCluster)
      }
      if (clusterCount >= Math.max(needed, minimum) && clusterCount <= maximum) {
        return { type, sectorsPerCluster, reservedSectors, rootEntries, fatSectors, totalSectors, clusterCount }
      }
    }
  }
  return options.bytes === undefined
    ? `the tree does not fit in FAT${options.fatType ?? 32}`
    : `the tree does not fit in ${options.bytes} bytes as FAT${options.fatType ?? "12/16/32"}`
}

/** Write a table entry (the inverse of `fatEntry`). */
const setFatEntry = (fat: Uint8Array, type: FatType, cluster: number, value: number): void => {
  if (type === 12) {
    const offset = cluster + (cluster >> 1)
    if (cluster & 1) {
      fat[offset] = (fat[offset]! & 0x0f) | ((value << 4) & 0xf0)
      fat[offset + 1] = value >> 4
    } else {
      fat[offset] = value & 0xff
      fat[offset + 1] = (fat[offset + 1]! & 0xf0) | ((value >> 8) & 0x0f)
    }
  } else if (type === 16) {
    fat[cluster * 2] = value & 0xff
    fat[cluster * 2 + 1] = value >> 8
  } else {
    new DataView(fat.buffer, fat.byteOffset).setUint32(cluster * 4, value, true)
  }
}

/** Write a 32-byte short entry. */
const writeShortEntry = (view: DataView, at: number, shortName: Uint8Array, attribute: number, cluster: number, size: number, mtime: number): void => {
  new Uint8Array(view.buffer, view.byteOffset + at, 11).set(shortName)
  const { date, time } = encodeDosTime(mtime)
  view.setUint8(at + 11, attribute)
  view.setUint16(at + 14, time, true)
  view.setUint16(at + 16, date, true)
  view.setUint16(at + 18, date, true)
  view.setUint16(at + 20, cluster >>> 16, true)
  view.setUint16(at + 22, time, true)
  view.setUint16(at + 24, date, true)
  view.setUint16(at + 26, cluster & 0xffff, true)
  view.setUint32(at + 28, size, true)
}

/** Write the long-name entries of `entry` from `at`; returns where the short entry goes. */
const writeLongEntries = (view: DataView, at: number, entry: NamedEntry): number => {
  const units = entry.longName ?? []
  const count = longEntryCount(entry)
  const checksum = shortNameChecksum(entry.shortName)
  for (let order = count; order >= 1; order--, at += entryBytes) {
    view.setUint8(at, order | (order === count ? 0x40 : 0))
    view.setUint8(at + 11, attributes.longName)
    view.setUint8(at + 13, checksum)
    lfnCharOffsets.forEach((offset, i) => {
      const index = (order - 1) * lfnCharsPerEntry + i
      view.setUint16(at + offset, index < units.length ? units[index]! : index === units.length ? 0 : 0xffff, true)
    })
  }
  return at
}

const dotName = shortNameBytes(".", "")
const dotDotName = shortNameBytes("..", "")

/** Write the boot sector (and for FAT32 the FSInfo sector and their backups). */
const writeBootSectors = (image: Uint8Array, layout: Layout, freeClusters: number, nextFree: number): void => {
  const view = new DataView(image.buffer)
  const fat32 = layout.type === 32
  image.set([0xeb, fat32 ? 0x58 : 0x3c, 0x90], 0)
  image.set(new TextEncoder().encode("EFFECTUK"), 3)
  view.setUint16(11, sectorBytes, true)
  view.setUint8(13, layout.sectorsPerCluster)
  view.setUint16(14, layout.reservedSectors, true)
  view.setUint8(16, fatCount)
  view.setUint16(17, layout.rootEntries, true)
  view.setUint16(19, !fat32 && layout.totalSectors < 0x10000 ? layout.totalSectors : 0, true)
  view.setUint8(21, 0xf8)
  view.setUint16(22, fat32 ? 0 : layout.fatSectors, true)
  view.setUint16(24, 32, true)
  view.setUint16(26, 64, true)
  view.setUint32(32, !fat32 && layout.totalSectors < 0x10000 ? 0 : layout.totalSectors, true)
  const extended = fat32 ? 64 : 36
  if (fat32) {
    view.setUint32(36, layout.fatSectors, true)
    view.setUint32(44, 2, true)
    view.setUint16(48, 1, true)
    view.setUint16(50, 6, true)
  }
  view.setUint8(extended, 0x80)
  view.setUint8(extended + 2, 0x29)
  view.setUint32(extended + 3, 0x2024effe, true)
  image.set(new TextEncoder().encode(`NO NAME    FAT${layout.type}   `), extended + 7)
  view.setUint16(510, 0xaa55, true)
  if (!fat32) return
  const info = sectorBytes
  view.setUint32(info, 0x41615252, true)
  view.setUint32(info + 484, 0x61417272, true)
  view.setUint32(info + 488, freeClusters, true)
  view.setUint32(info + 492, nextFree, true)
  view.setUint32(info + 508, 0xaa550000, true)
  image.copyWithin(6 * sectorBytes, 0, 2 * sectorBytes)
}

/**
 * The bytes of a FAT image holding `entries` (as `scanDirectory` returns
 * them), or why they cannot be written. Clusters are allocated in tree order,
 * so every file and directory is contiguous.
 */
export const fatImageOfEntries = (entries: ReadonlyArray<SourceEntry>, options: FatImageOptions = {}): Uint8Array | string => {
  const directories = planDirectories(entries)
  if (typeof directories === "string") return directories
  const layout = chooseLayout(directories, options)
  if (typeof layout === "string") return layout
  const clusterBytes = layout.sectorsPerCluster * sectorBytes
  const image = new Uint8Array(layout.totalSectors * sectorBytes)
  const fat = image.subarray(layout.reservedSectors * sectorBytes, (layout.reservedSectors + layout.fatSectors) * sectorBytes)
  const rootOffset = (layout.reservedSectors + fatCount * layout.fatSectors) * sectorBytes
  const dataOffset = rootOffset + layout.rootEntries * entryBytes
  const clusterAt = (cluster: number) => dataOffset + (cluster - 2) * clusterBytes
  const endOfChain = endOfChainMarks[layout.type]
  setFatEntry(fat, layout.type, 0, endOfChain - 7)
  setFatEntry(fat, layout.type, 1, endOfChain)
  let nextCluster = 2
  /** Allocate a contiguous chain for `bytes` bytes (at least one cluster when `atLeastOne`); returns its first cluster or 0. */
  const allocate = (bytes: number, atLeastOne: boolean): number => {
    const count = Math.max(atLeastOne ? 1 : 0, Math.ceil(bytes / clusterBytes))
    if (count === 0) return 0
    const first = nextCluster
    for (let cluster = first; cluster < first + count; cluster++) {
      setFatEntry(fat, layout.type, cluster, cluster === first + count - 1 ? endOfChain : cluster + 1)
    }
    nextCluster += count
    return first
  }
  const clusterOf = new Map<string, number>()
  for (const directory of directories) {
    const path = directory.source.segments.join("/")
    const isRoot = directory.source.segments.length === 0
    clusterOf.set(path, isRoot && layout.type !== 32 ? 0 : allocate(directory.entryCount * entryBytes, true))
  }
  for (const directory of directories) {
    const path = directory.source.segments.join("/")
    const own = clusterOf.get(path)!
    const view = new DataView(image.buffer, own === 0 ? rootOffset : clusterAt(own))
    let at = 0
    if (directory.source.segments.length > 0) {
      const parent = directory.source.segments.length === 1 ? 0 : clusterOf.get(directory.source.segments.slice(0, -1).join("/"))!
      writeShortEntry(view, 0, dotName, attributes.directory, own, 0, directory.source.mtime)
      writeShortEntry(view, entryBytes, dotDotName, attributes.directory, parent, 0, directory.source.mtime)
      at = 2 * entryBytes
    }
    for (const child of directory.children) {
      at = writeLongEntries(view, at, child)
      const isDirectory = child.source.kind === "dictionary"
      const cluster = isDirectory ? clusterOf.get(child.source.segments.join("/"))! : allocate(child.source.data.length, false)
      if (!isDirectory && cluster !== 0) image.set(child.source.data, clusterAt(cluster))
      writeShortEntry(view, at, child.shortName, isDirectory ? attributes.directory : attributes.archive, cluster, isDirectory ? 0 : child.source.data.length, child.source.mtime)
      at += entryBytes
    }
  }
  image.copyWithin(rootOffset - layout.fatSectors * sectorBytes, fat.byteOffset, fat.byteOffset + fat.length)
  writeBootSectors(image, layout, layout.clusterCount + 2 - nextCluster, nextCluster)
  return image
}

/** Build step: write a FAT image of the directory `dir` to `output`. */
export const makeFatImage = (dir: string, output: string, options: FatImageOptions = {}): Effect.Effect<void, KvBuildError> =>
  Effect.gen(function* () {
    const image = fatImageOfEntries(yield* scanDirectory(dir), options)
    if (typeof image === "string") return yield* new KvBuildError({ step: `FAT image of ${dir}`, reason: image })
    yield* Effect.tryPromise({
      try: () => writeFile(output, image),
      catch: (cause) => new KvBuildError({ step: `writing ${output}`, reason: "the image could not be written", cause }),
    })
  })
