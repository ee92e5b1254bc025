/**
 * The FAT12/16/32 on-disk format as plain functions over bytes: the boot
 * sector (BPB), the allocation table and its cluster chains, and directory
 * entries with VFAT long file names. Every function validates what it reads
 * and reports a problem as a string instead of throwing.
 */

/** The three FAT variants, named by the width of a table entry. */
export type FatType = 12 | 16 | 32

/** The layout of a FAT volume, derived from its boot sector. */
export interface FatGeometry {
  readonly type: FatType
  readonly bytesPerSector: number
  readonly sectorsPerCluster: number
  readonly clusterBytes: number
  readonly reservedSectors: number
  readonly fatCount: number
  readonly fatSectors: number
  /** Byte offset and length of the fixed root directory (FAT12/16; length 0 on FAT32). */
  readonly rootDirOffset: number
  readonly rootDirBytes: number
  /** First cluster of the root directory (FAT32; 0 on FAT12/16). */
  readonly rootCluster: number
  readonly totalSectors: number
  readonly firstDataSector: number
  /** Data clusters are numbered 2 .. clusterCount + 1. */
  readonly clusterCount: number
}

/** Directory entry attribute bits. */
export const attributes = { readOnly: 0x01, hidden: 0x02, system: 0x04, volumeLabel: 0x08, directory: 0x10, archive: 0x20, longName: 0x0f } as const

/** Bytes in one directory entry. */
export const entryBytes = 32

/** UTF-16 code units of a name held by one long-name entry. */
export const lfnCharsPerEntry = 13

/** Where the 13 UTF-16 code units of a long-name entry sit in its 32 bytes. */
export const lfnCharOffsets: ReadonlyArray<number> = [1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30]

/** The FAT type a volume of `clusterCount` clusters must be (Microsoft's rule). */
export const fatTypeOf = (clusterCount: number): FatType => (clusterCount < 4085 ? 12 : clusterCount < 65525 ? 16 : 32)

/**
 * Parse and check a boot sector against a device of `deviceBytes` bytes. The
 * volume is FAT32 when its 16-bit FAT size is 0 (as Linux and dosfstools
 * decide), otherwise FAT12 or FAT16 by its cluster count.
 */
export const parseBootSector = (sector: Uint8Array, deviceBytes: number): FatGeometry | string => {
  if (sector.length < 512) return "the device is smaller than a boot sector"
  const view = new DataView(sector.buffer, sector.byteOffset, sector.byteLength)
  if (view.getUint16(510, true) !== 0xaa55) return "the boot sector has no 0x55AA signature"
  const bytesPerSector = view.getUint16(11, true)
  const sectorsPerCluster = view.getUint8(13)
  const reservedSectors = view.getUint16(14, true)
  const fatCount = view.getUint8(16)
  const rootEntries = view.getUint16(17, true)
  const totalSectors = view.getUint16(19, true) || view.getUint32(32, true)
  const fatSectors16 = view.getUint16(22, true)
  const fatSectors = fatSectors16 || view.getUint32(36, true)
  if (![512, 1024, 2048, 4096].includes(bytesPerSector)) return `bytes per sector is ${bytesPerSector}`
  if (sectorsPerCluster === 0 || (sectorsPerCluster & (sectorsPerCluster - 1)) !== 0) return `sectors per cluster is ${sectorsPerCluster}`
  if (reservedSectors === 0 || fatCount === 0 || fatSectors === 0) return "the reserved, FAT count or FAT size field is zero"
  if (totalSectors * bytesPerSector > deviceBytes) {
    return `the volume has ${totalSectors * bytesPerSector} bytes but the device only ${deviceBytes} (truncated image?)`
  }
  const rootDirBytes = rootEntries * entryBytes
  const rootDirSectors = Math.ceil(rootDirBytes / bytesPerSector)
  const firstDataSector = reservedSectors + fatCount * fatSectors + rootDirSectors
  if (firstDataSector >= totalSectors) return "the FATs and root directory do not fit in the volume"
  const clusterCount = Math.floor((totalSectors - firstDataSector) / sectorsPerCluster)
  const type = fatSectors16 === 0 ? 32 : fatTypeOf(clusterCount)
  if (type === 32 && rootEntries !== 0) return `a FAT32 volume declares ${rootEntries} fixed root entries`
  const entryBits = type === 32 ? 32 : type === 16 ? 16 : 12
  if (fatSectors * bytesPerSector * 8 < (clusterCount + 2) * entryBits) return "the FAT is too small for the clusters"
  const rootCluster = type === 32 ? view.getUint32(44, true) : 0
  if (type === 32 && (rootCluster < 2 || rootCluster > clusterCount + 1)) return `the root cluster ${rootCluster} is out of range`
  return {
    type,
    bytesPerSector,
    sectorsPerCluster,
    clusterBytes: bytesPerSector * sectorsPerCluster,
    reservedSectors,
    fatCount,
    fatSectors,
    rootDirOffset: (reservedSectors + fatCount * fatSectors) * bytesPerSector,
    rootDirBytes,
    rootCluster,
    totalSectors,
    firstDataSector,
    clusterCount,
  }
}

/** Bytes of the first FAT that hold entries for every cluster. */
export const fatTableBytes = (geometry: FatGeometry): number =>
  Math.ceil(((geometry.clusterCount + 2) * geometry.type) / 8)

/** Byte offset of a data cluster on the device. */
export const clusterOffset = (geometry: FatGeometry, cluster: number): number =>
  (geometry.firstDataSector + (cluster - 2) * geometry.sectorsPerCluster) * geometry.bytesPerSector

/** The table entry of `cluster` (the next cluster, or a free/bad/end marker). */
export const fatEntry = (fat: Uint8Array, type: FatType, cluster: number): number => {
  if (type === 12) {
    const offset = cluster + (cluster >> 1)
    const pair = fat[offset]! | (fat[offset + 1]! << 8)
    return cluster & 1 ? pair >> 4 : pair & 0xfff
  }
  if (type === 16) return fat[cluster * 2]! | (fat[cluster * 2 + 1]! << 8)
  const at = cluster * 4
  return (fat[at]! | (fat[at + 1]! << 8) | (fat[at + 2]! << 16) | (fat[at + 3]! << 24)) & 0x0fffffff
}

/** Whether a table entry marks the end of a chain. */
const isEndOfChain = (type: FatType, entry: number): boolean =>
  entry >= (type === 12 ? 0xff8 : type === 16 ? 0xfff8 : 0x0ffffff8)

/** A run of consecutive clusters. */
export interface ClusterRun {
  readonly first: number
  readonly count: number
}

/**
 * Follow the chain from `first`. With `length`, take exactly that many
 * clusters (a file's clusters; the chain must not end before); without, take
 * clusters until the end marker (a directory). Loops, free or bad clusters and
 * numbers outside the volume are problems. Returns the chain as runs.
 */
export const walkChain = (
  geometry: FatGeometry,
  fat: Uint8Array,
  first: number,
  length?: number,
): Array<ClusterRun> | string => {
  const runs: Array<ClusterRun> = []
  const visited = new Set<number>()
  let cluster = first
  for (let taken = 0; length === undefined || taken < length; taken++) {
    if (cluster < 2 || cluster > geometry.clusterCount + 1) {
      return `cluster chain from ${first} reaches cluster ${cluster}, outside 2..${geometry.clusterCount + 1}`
    }
    if (visited.has(cluster)) return `cluster chain from ${first} loops back to cluster ${cluster}`
    visited.add(cluster)
    const last = runs[runs.length - 1]
    if (last !== undefined && last.first + last.count === cluster) runs[runs.length - 1] = { first: last.first, count: last.count + 1 }
    else runs.push({ first: cluster, count: 1 })
    const next = fatEntry(fat, geometry.type, cluster)
    if (isEndOfChain(geometry.type, next)) {
      return length === undefined || taken + 1 === length ? runs : `cluster chain from ${first} ends after ${taken + 1} of ${length} clusters`
    }
    cluster = next
  }
  return runs
}

/** A file or subdirectory found in a directory. */
export interface DirectoryEntry {
  readonly name: string
  readonly isDirectory: boolean
  readonly firstCluster: number
  readonly size: number
  /** Modification time, milliseconds since the epoch (FAT times are read as UTC). */
  readonly mtime: number
}

/** The checksum of an 11-byte short name that long-name entries carry. */
export const shortNameChecksum = (name: Uint8Array): number => {
  let sum = 0
  for (let i = 0; i < 11; i++) sum = ((((sum & 1) << 7) | (sum >> 1)) + name[i]!) & 0xff
  return sum
}

/** A FAT date and time (2-second resolution) as milliseconds since the epoch, reading them as UTC. */
export const decodeDosTime = (date: number, time: number): number =>
  date === 0
    ? 0
    : Date.UTC(1980 + (date >> 9), ((date >> 5) & 15) - 1, date & 31, time >> 11, (time >> 5) & 63, (time & 31) * 2)

/** Milliseconds since the epoch as a FAT date and time in UTC, clamped to 1980..2107. */
export const encodeDosTime = (ms: number): { readonly date: number; readonly time: number } => {
  const clamped = new Date(Math.min(Math.max(ms, Date.UTC(1980, 0, 1)), Date.UTC(2107, 11, 31, 23, 59, 58)))
  return {
    date: ((clamped.getUTCFullYear() - 1980) << 9) | ((clamped.getUTCMonth() + 1) << 5) | clamped.getUTCDate(),
    time: (clamped.getUTCHours() << 11) | (clamped.getUTCMinutes() << 5) | (clamped.getUTCSeconds() >> 1),
  }
}

/** Code page 850 (mtools' default) for the bytes 0x80..0xFF of short names. */
const codePage850High =
  "ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜø£Ø×ƒáíóúñÑªº¿®¬½¼¡«»░▒▓│┤ÁÂÀ©╣║╗╝¢¥┐└┴┬├─┼ãÃ╚╔╩╦╠═╬¤ðÐÊËÈıÍÎÏ┘┌█▄¦Ì▀ÓßÔÒõÕµþÞÚÛÙýÝ¯´\u00ad±‗¾¶§÷¸°¨·¹³²■\u00a0"

/** The text of a short (8.3) name, decoded as code page 850, lowercasing the parts flagged lowercase (Windows NT byte 12). */
const shortNameText = (entry: Uint8Array): string => {
  const flags = entry[12]!
  const part = (start: number, end: number, lower: boolean) => {
    let text = ""
    for (let i = start; i < end; i++) {
      const byte = i === 0 && entry[0] === 0x05 ? 0xe5 : entry[i]!
      text += byte < 0x80 ? String.fromCharCode(byte) : codePage850High[byte - 0x80]
    }
    text = text.trimEnd()
    return lower ? text.toLowerCase() : text
  }
  const base = part(0, 8, (flags & 0x08) !== 0)
  const extension = part(8, 11, (flags & 0x10) !== 0)
  return extension === "" ? base : `${base}.${extension}`
}

/** The UTF-16 code units a long-name entry holds, up to its terminator. */
const longNameUnits = (entry: Uint8Array): Array<number> => {
  const units: Array<number> = []
  for (const offset of lfnCharOffsets) {
    const unit = entry[offset]! | (entry[offset + 1]! << 8)
    if (unit === 0 || unit === 0xffff) break
    units.push(unit)
  }
  return units
}

/**
 * Decode the entries of a directory (`bytes` is its whole content). Long
 * names are used when their sequence is complete and their checksum matches
 * the short entry; otherwise the short name is. Deleted entries, volume labels
 * and `.`/`..` are skipped; an entry starting with 0 ends the directory.
 */
export const parseDirectory = (bytes: Uint8Array, type: FatType): Array<DirectoryEntry> => {
  const entries: Array<DirectoryEntry> = []
  let pieces: Array<Array<number>> = []
  let expected = 0
  let checksum = -1
  for (let at = 0; at + entryBytes <= bytes.length; at += entryBytes) {
    const entry = bytes.subarray(at, at + entryBytes)
    const first = entry[0]!
    if (first === 0x00) break
    const attribute = entry[11]!
    if (first === 0xe5) {
      expected = 0
      continue
    }
    if ((attribute & 0x3f) === attributes.longName) {
      const order = first & 0x1f
      if (first & 0x40) {
        pieces = []
        expected = order
        checksum = entry[13]!
      } else if (order !== expected || entry[13] !== checksum) {
        expected = 0
        continue
      }
      if (order === 0) continue
      pieces[order - 1] = longNameUnits(entry)
      expected = order - 1
      continue
    }
    const longName = expected === 0 && pieces.length > 0 && checksum === shortNameChecksum(entry)
      ? String.fromCharCode(...pieces.flat())
      : undefined
    pieces = []
    expected = 0
    if (attribute & attributes.volumeLabel) continue
    const name = longName ?? shortNameText(entry)
    if (name === "." || name === "..") continue
    const view = new DataView(entry.buffer, entry.byteOffset, entryBytes)
    const high = type === 32 ? view.getUint16(20, true) * 0x10000 : 0
    entries.push({
      name,
      isDirectory: (attribute & attributes.directory) !== 0,
      firstCluster: high + view.getUint16(26, true),
      size: view.getUint32(28, true),
      mtime: decodeDosTime(view.getUint16(24, true), view.getUint16(22, true)),
    })
  }
  return entries
}
