/**
 * The JavaScript engine of an image: the Node binary running this build
 * (stripped of its debug sections into the cache) and exactly the shared
 * libraries `ldd` lists for it, at the paths the dynamic loader will look.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { cacheDir, cachedFolder } from "./Cache.ts"
import { hasTool, runTool } from "./Command.ts"

/** A file to put in the image: where it goes (absolute, in the guest) and where its bytes are (host). */
export interface GuestFile {
  readonly guest: string
  readonly host: string
}

/** The Node that runs in the guest: the real path of the running binary (the bundle is built for it). */
export const hostNode = (): string => fs.realpathSync(process.execPath)

/**
 * `node` without its symbols and debug sections (about 15% smaller), cached
 * per binary; the binary itself when `strip` (binutils) is missing, with a
 * note through `progress`.
 */
export const strippedNode = (node: string, progress: (line: string) => void): string => {
  if (!hasTool("strip")) {
    progress("strip (binutils) is not installed: the image gets the unstripped node binary")
    return node
  }
  const stat = fs.statSync(node)
  const key = `${process.version}-${stat.size}-${Math.floor(stat.mtimeMs)}`
  return path.join(cachedFolder(cacheDir("node", key), (scratch) => {
    runTool("strip", ["-o", path.join(scratch, "node"), node], "install binutils, or remove strip from PATH to use the unstripped binary")
  }), "node")
}

/** The libraries in `ldd` output: `libc.so.6 => /lib/…/libc.so.6 (0x…)` and the loader `/lib64/ld-linux-x86-64.so.2 (0x…)`. */
export const parseLdd = (output: string): Array<string> =>
  output.split("\n").flatMap((line) => {
    const match = /(?:=>\s*)?(\/\S+)\s+\(0x[0-9a-f]+\)/.exec(line.trim())
    return match?.[1] === undefined ? [] : [match[1]]
  })

/** The shared libraries `binary` loads, as guest paths with the host file holding their bytes. */
export const sharedLibraries = (binary: string): Array<GuestFile> =>
  parseLdd(runTool("ldd", [binary], "ldd (libc-bin) is needed to find the libraries node loads"))
    .map((guest) => ({ guest, host: fs.realpathSync(guest) }))
