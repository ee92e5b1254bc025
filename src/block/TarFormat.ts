/**
 * The tar format as plain functions over 512-byte blocks: ustar headers
 * (with GNU base-256 numbers and the ustar prefix), GNU long-name members and
 * pax extended headers, both to read and to write.
 */

/** Bytes in a tar block; headers and member data are padded to it. */
export const tarBlock = 512

/** A decoded member header. */
export interface TarHeader {
  readonly name: string
  readonly mode: number
  readonly size: number
  /** Seconds since the epoch. */
  readonly mtime: number
  /** The type flag character (`"0"` file, `"5"` directory, `"L"` GNU long name, `"x"` pax…); `"0"` for NUL. */
  readonly type: string
}

const decoder = new TextDecoder()
const encoder = new TextEncoder()

/** A NUL-terminated text field. */
const textField = (block: Uint8Array, offset: number, length: number): string => {
  const field = block.subarray(offset, offset + length)
  const end = field.indexOf(0)
  return decoder.decode(end < 0 ? field : field.subarray(0, end))
}

/** A numeric field: octal text, or GNU base-256 when the high bit of its first byte is set. */
const numberField = (block: Uint8Array, offset: number, length: number): number | undefined => {
  const field = block.subarray(offset, offset + length)
  if (field[0]! & 0x80) {
    if (field[0] !== 0x80) return undefined
    let value = 0
    for (const byte of field.subarray(1)) value = value * 256 + byte
    return Number.isSafeInteger(value) ? value : undefined
  }
  let value = 0
  let digits = 0
  for (const byte of field) {
    if (byte === 0x20 && digits === 0) continue
    if (byte === 0 || byte === 0x20) break
    if (byte < 0x30 || byte > 0x37) return undefined
    value = value * 8 + (byte - 0x30)
    digits++
  }
  return value
}

/** The header checksum: the sum of its bytes with the checksum field counted as spaces. */
const checksumOf = (block: Uint8Array): number => {
  let sum = 0
  for (let i = 0; i < tarBlock; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i]!
  return sum
}

/** Whether a block is all zeros (the end-of-archive marker). */
export const isZeroBlock = (block: Uint8Array): boolean => block.every((byte) => byte === 0)

/** Decode a header block, or say why it is not one. */
export const parseHeader = (block: Uint8Array): TarHeader | string => {
  const stored = numberField(block, 148, 8)
  if (stored === undefined || stored !== checksumOf(block)) return "a header checksum does not match (not a tar archive, or damaged)"
  const mode = numberField(block, 100, 8)
  const size = numberField(block, 124, 12)
  const mtime = numberField(block, 136, 12)
  if (mode === undefined || size === undefined || mtime === undefined) return "a header has a malformed number"
  const name = textField(block, 0, 100)
  const isUstar = textField(block, 257, 6) === "ustar" && block[262] === 0
  const prefix = isUstar ? textField(block, 345, 155) : ""
  const flag = block[156]!
  return { name: prefix === "" ? name : `${prefix}/${name}`, mode, size, mtime, type: flag === 0 ? "0" : String.fromCharCode(flag) }
}

/** Pax extended-header records (`<length> <key>=<value>\n`), or why they are malformed. */
export const parsePaxRecords = (data: Uint8Array): Map<string, string> | string => {
  const records = new Map<string, string>()
  let at = 0
  while (at < data.length) {
    if (data[at] === 0) break
    const space = data.indexOf(0x20, at)
    const length = space < 0 ? NaN : Number(decoder.decode(data.subarray(at, space)))
    if (!Number.isSafeInteger(length) || length <= space - at || at + length > data.length || data[at + length - 1] !== 0x0a) {
      return "a pax record is malformed"
    }
    const record = decoder.decode(data.subarray(space + 1, at + length - 1))
    const equals = record.indexOf("=")
    if (equals < 0) return "a pax record has no '='"
    records.set(record.slice(0, equals), record.slice(equals + 1))
    at += length
  }
  return records
}

/** One pax record with its self-inclusive length prefix. */
const paxRecord = (key: string, value: string): string => {
  const body = ` ${key}=${value}\n`
  const bodyBytes = encoder.encode(body).length
  const digits = String(bodyBytes).length
  const length = String(bodyBytes + digits).length > digits ? bodyBytes + digits + 1 : bodyBytes + digits
  return `${length}${body}`
}

/** Write `value` as zero-padded octal with a NUL terminator into `length` bytes. */
const writeOctal = (block: Uint8Array, offset: number, length: number, value: number): void => {
  block.set(encoder.encode(value.toString(8).padStart(length - 1, "0")), offset)
}

/** Whether a number fits an octal field of `length` bytes. */
const fitsOctal = (value: number, length: number): boolean => value.toString(8).length <= length - 1

/** A member to write. */
export interface TarMember {
  /** Path inside the archive; directories end with `/`. */
  readonly name: string
  readonly type: "0" | "5"
  readonly mode: number
  /** Seconds since the epoch. */
  readonly mtime: number
  readonly data: Uint8Array
}

/** A ustar header block for `member` under `name` (already made to fit). */
const ustarHeader = (name: string, type: string, mode: number, size: number, mtime: number): Uint8Array => {
  const block = new Uint8Array(tarBlock)
  block.set(encoder.encode(name).subarray(0, 100), 0)
  writeOctal(block, 100, 8, mode)
  writeOctal(block, 108, 8, 0)
  writeOctal(block, 116, 8, 0)
  writeOctal(block, 124, 12, size)
  writeOctal(block, 136, 12, mtime)
  block[156] = type.charCodeAt(0)
  block.set(encoder.encode("ustar\u000000"), 257)
  writeOctal(block, 329, 8, 0)
  writeOctal(block, 337, 8, 0)
  const checksum = checksumOf(block).toString(8).padStart(6, "0")
  block.set(encoder.encode(`${checksum}\u0000 `), 148)
  return block
}

/** Data padded to whole blocks. */
const padded = (data: Uint8Array): Uint8Array => {
  if (data.length % tarBlock === 0) return data
  const out = new Uint8Array(Math.ceil(data.length / tarBlock) * tarBlock)
  out.set(data)
  return out
}

/**
 * The blocks of one member: a pax header first when the name is not ASCII or
 * longer than 100 bytes, or the size or time does not fit ustar's octal fields.
 */
export const encodeMember = (member: TarMember): Array<Uint8Array> => {
  const nameBytes = encoder.encode(member.name)
  const records = [
    ...(nameBytes.length > 100 || /[^\u0020-\u007e]/.test(member.name) ? [paxRecord("path", member.name)] : []),
    ...(fitsOctal(member.data.length, 12) ? [] : [paxRecord("size", String(member.data.length))]),
    ...(fitsOctal(member.mtime, 12) && member.mtime >= 0 ? [] : [paxRecord("mtime", String(member.mtime))]),
  ]
  const asciiName = member.name.replace(/[^\u0020-\u007e]/g, "_").slice(0, 100)
  const size = fitsOctal(member.data.length, 12) ? member.data.length : 0
  const mtime = fitsOctal(member.mtime, 12) && member.mtime >= 0 ? member.mtime : 0
  const blocks: Array<Uint8Array> = []
  if (records.length > 0) {
    const pax = encoder.encode(records.join(""))
    blocks.push(ustarHeader(`PaxHeaders/${asciiName}`.slice(0, 100), "x", 0o644, pax.length, mtime), padded(pax))
  }
  blocks.push(ustarHeader(asciiName, member.type, member.mode, size, mtime))
  if (member.data.length > 0) blocks.push(padded(member.data))
  return blocks
}
