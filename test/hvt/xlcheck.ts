/**
 * Xen's configuration parser for tests: `xlcheck.c` compiled against
 * libxlutil from Debian's Xen packages (fetched with apt-get download into
 * the cache, not installed) and compiled once per version of `xlcheck.c`. Xen
 * itself is not needed: only its parser runs.
 */
import { spawnSync } from "node:child_process"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { cacheDir, cachedFolder } from "../../src/cli/image/Cache.ts"
import { runTool } from "../../src/cli/image/Command.ts"

const packages = [
  "libxen-dev", "libxenmisc4.17", "libxentoollog1", "libxencall1", "libxenevtchn1", "libxenforeignmemory1",
  "libxengnttab1", "libxenstore4", "libxentoolcore1", "libxendevicemodel1", "libxenhypfs1", "libyajl2",
]

const fix = "the xen check needs apt-get, dpkg-deb, gcc and the Debian mirror"

/** The unpacked Xen packages: headers and the libraries the checker loads. */
const xenPackages = (): string =>
  cachedFolder(cacheDir("test", "xlcheck"), (scratch) => {
    runTool("apt-get", ["download", "-q", ...packages], fix, scratch)
    for (const deb of fs.readdirSync(scratch).filter((f) => f.endsWith(".deb"))) {
      runTool("dpkg-deb", ["-x", path.join(scratch, deb), path.join(scratch, "root")], fix)
    }
  })

/** The checker (compiled again when `xlcheck.c` changes) and the folder of the libraries it loads; throws when it cannot be made. */
const checker = (): { readonly binary: string; readonly libraries: string } => {
  const source = path.join(import.meta.dirname, "xlcheck.c")
  const root = path.join(xenPackages(), "root")
  const libraries = path.join(root, "usr/lib/x86_64-linux-gnu")
  const hash = createHash("sha256").update(fs.readFileSync(source)).digest("hex").slice(0, 12)
  const folder = cachedFolder(cacheDir("test", `xlcheck-${hash}`), (scratch) => {
    runTool("gcc", ["-o", path.join(scratch, "xlcheck"), source, `-I${path.join(root, "usr/include")}`, `-L${libraries}`,
      `-Wl,-rpath-link,${libraries}`, "-lxlutil", "-lxenlight"], fix)
  })
  return { binary: path.join(folder, "xlcheck"), libraries }
}

/** Why Xen's parser cannot be had here, or undefined when it can. */
export const xlCheckUnavailable = (): string | undefined => {
  try {
    checker()
    return undefined
  } catch (error) {
    return (error as Error).message
  }
}

/** Parse `file` with Xen's parser: the settings it printed (`key=value` lines), or the parser's complaint. */
export const xlCheck = (file: string): { readonly ok: boolean; readonly output: string } => {
  const { binary, libraries } = checker()
  const result = spawnSync(binary, [file], { encoding: "utf8", env: { ...process.env, LD_LIBRARY_PATH: libraries } })
  return { ok: result.status === 0, output: result.stdout + result.stderr }
}
