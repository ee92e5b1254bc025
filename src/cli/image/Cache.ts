/**
 * effect-uk's cache on the build machine: `$XDG_CACHE_HOME/effect-uk` or
 * `~/.cache/effect-uk`. It holds the unpacked kernel and busybox packages,
 * the stripped Node binary and the launcher's accelerator probe.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"

/** The cache folder (created on first use). */
export const cacheDir = (...parts: Array<string>): string => {
  const base = process.env["XDG_CACHE_HOME"] || path.join(os.homedir(), ".cache")
  return path.join(base, "effect-uk", ...parts)
}

/**
 * Make `final` once with `make`, which fills a fresh folder: the folder is
 * renamed into place only when `make` succeeds, so an interrupted build never
 * leaves half an entry. Returns `final`.
 */
export const cachedFolder = (final: string, make: (scratch: string) => void): string => {
  if (fs.existsSync(final)) return final
  fs.mkdirSync(path.dirname(final), { recursive: true })
  const scratch = fs.mkdtempSync(`${final}.partial-`)
  try {
    make(scratch)
    fs.renameSync(scratch, final)
  } catch (error) {
    fs.rmSync(scratch, { recursive: true, force: true })
    if (!fs.existsSync(final)) throw error
  }
  return final
}
