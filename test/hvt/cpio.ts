/**
 * Reading newc cpio archives back, to check what an image holds.
 */
import * as fs from "node:fs"

/** One member: its path, mode and contents. */
export interface Member {
  readonly path: string
  readonly mode: number
  readonly data: Uint8Array
}

/** Every member of a newc archive, up to the trailer. */
export const readCpio = (file: string): Array<Member> => {
  const bytes = fs.readFileSync(file)
  const members: Array<Member> = []
  let offset = 0
  const align = (n: number) => (n + 3) & ~3
  for (;;) {
    const header = bytes.subarray(offset, offset + 110).toString("latin1")
    if (!header.startsWith("070701")) throw new Error(`no newc header at byte ${offset}`)
    const field = (index: number) => parseInt(header.slice(6 + index * 8, 14 + index * 8), 16)
    const nameSize = field(11)
    const size = field(6)
    const path = bytes.subarray(offset + 110, offset + 110 + nameSize - 1).toString("utf8")
    const dataAt = align(offset + 110 + nameSize)
    if (path === "TRAILER!!!") return members
    members.push({ path, mode: field(1), data: bytes.subarray(dataAt, dataAt + size) })
    offset = align(dataAt + size)
  }
}
