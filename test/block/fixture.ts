/**
 * The directory tree every key-value store is tested against, and helpers to
 * make it in a temporary directory and to run host tools.
 */
import { spawnSync } from "node:child_process"
import { mkdir, mkdtemp, rm, utimes, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"

/** The time given to every file and directory (an even second, so FAT's 2-second times keep it). */
export const fixtureMtime = Date.UTC(2021, 5, 15, 12, 34, 56)

/** `length` deterministic pseudo-random bytes (xorshift32 from `seed`). */
export const pseudoRandomBytes = (length: number, seed: number): Uint8Array => {
  const bytes = new Uint8Array(length)
  let state = seed >>> 0 || 1
  for (let i = 0; i < length; i++) {
    state ^= state << 13
    state ^= state >>> 17
    state ^= state << 5
    bytes[i] = state & 0xff
  }
  return bytes
}

const text = (value: string) => new TextEncoder().encode(value)

/** The files of the tree by path, with their contents. */
export const fixtureFiles: ReadonlyMap<string, Uint8Array> = new Map([
  ["hello.txt", text("Hello, world!\n")],
  ["README", text("an upper-case 8.3 name\n")],
  ["empty.dat", new Uint8Array(0)],
  ["a very long file name with spaces.txt", text("long names are kept\n".repeat(10))],
  ["big.bin", pseudoRandomBytes(300 * 1024 + 123, 42)],
  ["nested/inner.json", text('{"nested":true}\n')],
  ["nested/deeper/deepest/leaf.txt", text("a leaf three levels down\n")],
  ["café/日本語.txt", text("unicode names: café, 日本語\n")],
])

/** The directories of the tree (besides the root). */
export const fixtureDirectories: ReadonlyArray<string> = ["café", "emptydir", "nested", "nested/deeper", "nested/deeper/deepest"]

/** A fresh temporary directory; removed by `removeTemp`. */
export const makeTemp = (prefix: string): Promise<string> => mkdtemp(join(tmpdir(), `effect-uk-${prefix}-`))

/** Remove a temporary directory made by `makeTemp`. */
export const removeTemp = (dir: string): Promise<void> => rm(dir, { recursive: true, force: true })

/** Write `files` and `directories` under `root`, then give everything (root included) the time `mtime`. */
export const writeTree = async (
  root: string,
  files: ReadonlyMap<string, Uint8Array>,
  directories: ReadonlyArray<string>,
  mtime = fixtureMtime,
): Promise<void> => {
  for (const directory of directories) await mkdir(join(root, directory), { recursive: true })
  for (const [path, data] of files) {
    await mkdir(join(root, path, ".."), { recursive: true })
    await writeFile(join(root, path), data)
  }
  const seconds = mtime / 1000
  const all = [...files.keys(), ...directories].sort((a, b) => b.split("/").length - a.split("/").length)
  for (const path of all) await utimes(join(root, path), seconds, seconds)
  await utimes(root, seconds, seconds)
}

/** Make the fixture tree in a new temporary directory. */
export const makeFixture = async (): Promise<string> => {
  const root = await makeTemp("fixture")
  await writeTree(root, fixtureFiles, fixtureDirectories)
  return root
}

/** Whether a host tool is on the PATH; prints why the tests that need it are skipped when it is not. */
export const hasTool = (tool: string): boolean => {
  const found = spawnSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" }).status === 0
  if (!found) console.warn(`skipping: ${tool} is not installed (Debian: apt-get install dosfstools mtools tar)`)
  return found
}

/** Run a host tool with UTC times and a UTF-8 locale; throws with its output when it fails. */
export const run = (command: string, args: ReadonlyArray<string>, cwd?: string): string => {
  const result = spawnSync(command, args, {
    encoding: "utf8",
    cwd,
    env: { ...process.env, TZ: "UTC", LANG: "C.UTF-8", LC_ALL: "C.UTF-8", MTOOLS_SKIP_CHECK: "1" },
  })
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} failed (${result.status}): ${result.stdout}${result.stderr}`)
  return result.stdout + result.stderr
}
