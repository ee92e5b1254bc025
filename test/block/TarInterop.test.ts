import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { readFile, stat } from "node:fs/promises"
import { join } from "node:path"
import { afterAll, beforeAll } from "vitest"
import { layerFile } from "../../src/block/BlockFile.ts"
import { KvRo } from "../../src/block/KvRo.ts"
import { layerArchive } from "../../src/block/KvRoArchive.ts"
import { makeTarImage } from "../../src/block/TarImage.ts"
import { fixtureDirectories, fixtureFiles, fixtureMtime, hasTool, makeTemp, pseudoRandomBytes, removeTemp, run, writeTree } from "./fixture.ts"
import { readWholeStore } from "./kvRoSuite.ts"

const haveTar = hasTool("tar")

/** A path longer than ustar's 100-byte name field, in a directory: needs a GNU long name or a pax path. */
const longDirectory = "a directory with a rather long name/and another level below it"
const longPath = `${longDirectory}/${"a file name that is long enough to need an extension header ".repeat(2).trim()}.txt`

/** The fixture plus a long path. */
const files = new Map([...fixtureFiles, [longPath, pseudoRandomBytes(3000, 9)]])
const directories = [...fixtureDirectories, "a directory with a rather long name", longDirectory]

let tree = ""
let temp = ""
beforeAll(async () => {
  tree = await makeTemp("tar-tree")
  temp = await makeTemp("tar")
  await writeTree(tree, files, directories)
})
afterAll(async () => {
  await removeTemp(tree)
  await removeTemp(temp)
})

/** Everything in the archive at `path`, read with `layerArchive`. */
const readArchive = (path: string) =>
  Effect.flatMap(Effect.service(KvRo), readWholeStore).pipe(
    Effect.provide(layerArchive.pipe(Layer.provide(layerFile({ path, readOnly: true })))),
  )

describe.skipIf(!haveTar)("archives made by GNU tar", () => {
  for (const format of ["gnu", "pax", "ustar", "v7"] as const) {
    it.live(`--format=${format}: every file reads back byte for byte, with folders and times`, () =>
      Effect.gen(function* () {
        const archive = join(temp, `${format}.tar`)
        // ustar and v7 cannot hold the long path: leave it out for them.
        const exclude = format === "gnu" || format === "pax" ? [] : ["--exclude", "./a directory with a rather long name"]
        run("tar", [`--format=${format}`, ...exclude, "-cf", archive, "-C", tree, "."])
        const expected = new Map([...files].filter(([path]) => exclude.length === 0 || path !== longPath))
        const { files: read, directories: dirs } = yield* readArchive(archive)
        expect(read).toEqual(expected)
        expect(dirs).toEqual(directories.filter((dir) => exclude.length === 0 || !dir.startsWith("a directory")).sort())
        const mtime = yield* Effect.flatMap(Effect.service(KvRo), (kv) => kv.lastModified("nested/inner.json")).pipe(
          Effect.provide(layerArchive.pipe(Layer.provide(layerFile({ path: archive, readOnly: true })))),
        )
        expect(mtime).toBe(fixtureMtime)
      }))
  }
})

describe.skipIf(!haveTar)("archives made by makeTarImage", () => {
  it.live("GNU tar lists and extracts them as the original tree, and layerArchive reads them back", () =>
    Effect.gen(function* () {
      const archive = join(temp, "ours.tar")
      yield* makeTarImage(tree, archive)
      const listing = run("tar", ["-tf", archive]).split("\n").filter((line) => line !== "")
      expect(listing.sort()).toEqual([...[...files.keys()], ...directories.map((dir) => `${dir}/`)].sort())
      const out = yield* Effect.promise(() => makeTemp("tar-out"))
      run("tar", ["-xf", archive, "-C", out])
      for (const [path, data] of files) {
        expect(new Uint8Array(yield* Effect.promise(() => readFile(join(out, path)))), path).toEqual(data)
        expect((yield* Effect.promise(() => stat(join(out, path)))).mtimeMs, path).toBe(fixtureMtime)
      }
      const { files: read } = yield* readArchive(archive)
      expect(read).toEqual(files)
      yield* Effect.promise(() => removeTemp(out))
    }))
})
