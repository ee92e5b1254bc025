/**
 * Files beside a built unikernel (disk images, directories for `direct`
 * stores) are named relative to its directory; the bundle lives in
 * `DIR/_build/`, so the generated entry point resolves them from its own URL.
 */
import * as path from "node:path"
import { fileURLToPath } from "node:url"

/** The absolute path of `relative` in the unikernel's directory, given the bundle's `import.meta.url`. */
export const unikernelFile = (bundleUrl: string, relative: string): string =>
  path.resolve(path.dirname(path.dirname(fileURLToPath(bundleUrl))), relative)
