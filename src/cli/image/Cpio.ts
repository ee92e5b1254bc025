/**
 * A writer of cpio archives in the "newc" format (what the Linux kernel
 * unpacks as an initramfs). Files are copied from the host in chunks, so a
 * 100 MB Node binary never sits in memory whole.
 */
import * as fs from "node:fs"

/** One member of the archive. Paths are relative (`bin/busybox`), parents listed first. */
export type CpioEntry =
  | { readonly kind: "directory"; readonly path: string; readonly mode?: number }
  | { readonly kind: "file"; readonly path: string; readonly mode?: number; readonly source: string }
  | { readonly kind: "data"; readonly path: string; readonly mode?: number; readonly data: Uint8Array }
  | { readonly kind: "symlink"; readonly path: string; readonly target: string }
  | { readonly kind: "chardev"; readonly path: string; readonly mode?: number; readonly major: number; readonly minor: number }

const fileType = { directory: 0o040000, file: 0o100000, data: 0o100000, symlink: 0o120000, chardev: 0o020000 } as const
const defaultMode = { directory: 0o755, file: 0o644, data: 0o644, symlink: 0o777, chardev: 0o600 } as const

const hex8 = (value: number): string => value.toString(16).padStart(8, "0")
const padding = (length: number): Uint8Array => new Uint8Array((4 - (length % 4)) % 4)

/** The newc header and padded name of a member with `size` bytes of data. */
export const cpioHeader = (fields: {
  readonly ino: number
  readonly mode: number
  readonly size: number
  readonly name: string
  readonly rdevMajor?: number
  readonly rdevMinor?: number
}): Uint8Array => {
  const name = new TextEncoder().encode(fields.name + "\0")
  const values = [fields.ino, fields.mode, 0, 0, 1, 0, fields.size, 0, 0, fields.rdevMajor ?? 0, fields.rdevMinor ?? 0, name.length, 0]
  const header = new TextEncoder().encode("070701" + values.map(hex8).join(""))
  const bytes = new Uint8Array(header.length + name.length + padding(header.length + name.length).length)
  bytes.set(header)
  bytes.set(name, header.length)
  return bytes
}

const copyFile = (fd: number, source: string): number => {
  const input = fs.openSync(source, "r")
  try {
    const chunk = Buffer.allocUnsafe(1 << 20)
    let total = 0
    for (let read = fs.readSync(input, chunk); read > 0; read = fs.readSync(input, chunk)) {
      fs.writeSync(fd, chunk, 0, read)
      total += read
    }
    return total
  } finally {
    fs.closeSync(input)
  }
}

/** Write the archive of `entries` (then the `TRAILER!!!` member) to `file`; returns its size in bytes. */
export const writeCpio = (file: string, entries: Iterable<CpioEntry>): number => {
  const fd = fs.openSync(file, "w")
  try {
    let ino = 1
    let offset = 0
    const write = (bytes: Uint8Array) => {
      fs.writeSync(fd, bytes)
      offset += bytes.length
    }
    for (const entry of entries) {
      const mode = fileType[entry.kind] | ("mode" in entry && entry.mode !== undefined ? entry.mode : defaultMode[entry.kind])
      const content = entry.kind === "data"
        ? entry.data
        : entry.kind === "symlink" ? new TextEncoder().encode(entry.target) : undefined
      const size = entry.kind === "file" ? fs.statSync(entry.source).size : content?.length ?? 0
      const device = entry.kind === "chardev" ? { rdevMajor: entry.major, rdevMinor: entry.minor } : {}
      write(cpioHeader({ ino: ino++, mode, size, name: entry.path, ...device }))
      if (entry.kind === "file") {
        const copied = copyFile(fd, entry.source)
        if (copied !== size) throw new Error(`${entry.source} changed size while it was archived: build again`)
        offset += copied
      } else if (content) write(content)
      write(padding(size))
    }
    write(cpioHeader({ ino: 0, mode: 0, size: 0, name: "TRAILER!!!" }))
    return offset
  } finally {
    fs.closeSync(fd)
  }
}
