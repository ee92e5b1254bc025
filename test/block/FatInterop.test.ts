import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { readdir, readFile, stat } from "node:fs/promises"
import { join } from "node:path"
import { afterAll, beforeAll } from "vitest"
import { layerFile } from "../../src/block/BlockFile.ts"
import { clusterOffset, fatTableBytes, parseBootSector, parseDirectory, walkChain } from "../../src/block/FatFormat.ts"
import { makeFatImage } from "../../src/block/FatImage.ts"
import { KvRo } from "../../src/block/KvRo.ts"
import { layerFat } from "../../src/block/KvRoFat.ts"
import { fixtureDirectories, fixtureFiles, fixtureMtime, hasTool, makeFixture, makeTemp, pseudoRandomBytes, removeTemp, run, writeTree } from "./fixture.ts"
import { readWholeStore } from "./kvRoSuite.ts"

const haveTools = hasTool("mkfs.fat") && hasTool("mcopy") && hasTool("fsck.fat")

let fixture = ""
let temp = ""
beforeAll(async () => {
  fixture = await makeFixture()
  temp = await makeTemp("fat")
})
afterAll(async () => {
  await removeTemp(fixture)
  await removeTemp(temp)
})

/** Serve a FAT image file with `layerFat`. */
const fatOf = (image: string) => layerFat.pipe(Layer.provide(layerFile({ path: image, readOnly: true })))

/** Copy the fixture's top-level entries into the root of `image` with mtools, keeping times. */
const mcopyFixture = async (image: string) => {
  const names = await readdir(fixture)
  run("mcopy", ["-s", "-m", "-i", image, ...names.map((name) => join(fixture, name)), "::/"])
}

describe.skipIf(!haveTools)("FAT images made by mkfs.fat and mcopy", () => {
  const variants = [
    { name: "FAT12", args: ["-F", "12"], kib: 2048 },
    { name: "FAT16", args: ["-F", "16"], kib: 16384 },
    { name: "FAT16 with 4096-byte sectors", args: ["-F", "16", "-S", "4096", "-s", "1"], kib: 65536 },
    { name: "FAT32", args: ["-F", "32", "-s", "1"], kib: 40000 },
    { name: "FAT32 with mkfs.fat's default cluster size", args: ["-F", "32"], kib: 40000 },
  ]
  for (const variant of variants) {
    it.live(`${variant.name}: every file reads back byte for byte, with names, folders and times`, () =>
      Effect.gen(function* () {
        const image = join(temp, `${variant.name.replaceAll(" ", "-")}.img`)
        yield* Effect.promise(async () => {
          run("mkfs.fat", ["-C", ...variant.args, image, String(variant.kib)])
          await mcopyFixture(image)
        })
        const { files, directories } = yield* Effect.flatMap(Effect.service(KvRo), readWholeStore).pipe(Effect.provide(fatOf(image)))
        expect(directories).toEqual([...fixtureDirectories].sort())
        expect(files).toEqual(new Map(fixtureFiles))
        const mtime = yield* Effect.flatMap(Effect.service(KvRo), (kv) => kv.lastModified("nested/deeper/deepest/leaf.txt")).pipe(Effect.provide(fatOf(image)))
        expect(mtime).toBe(fixtureMtime)
      }))
  }

  it.live("a fragmented file reads back byte for byte", () =>
    Effect.gen(function* () {
      const image = join(temp, "fragmented.img")
      const source = yield* Effect.promise(() => makeTemp("fragments"))
      const pieces = new Map([
        ["a.bin", pseudoRandomBytes(20_000, 1)],
        ["b.bin", pseudoRandomBytes(20_000, 2)],
        ["c.bin", pseudoRandomBytes(20_000, 3)],
        ["big.bin", pseudoRandomBytes(100_000, 4)],
      ])
      yield* Effect.promise(async () => {
        await writeTree(source, pieces, [])
        run("mkfs.fat", ["-C", "-F", "16", "-s", "1", image, "16384"])
        for (const name of ["a.bin", "b.bin", "c.bin"]) run("mcopy", ["-i", image, join(source, name), "::/"])
        run("mdel", ["-i", image, "::/b.bin"])
        run("mcopy", ["-i", image, join(source, "big.bin"), "::/"])
      })
      const bytes = new Uint8Array(yield* Effect.promise(() => readFile(image)))
      const geometry = parseBootSector(bytes, bytes.length)
      if (typeof geometry === "string") throw new Error(geometry)
      const fat = bytes.subarray(geometry.reservedSectors * 512, geometry.reservedSectors * 512 + fatTableBytes(geometry))
      const entry = parseDirectory(bytes.subarray(geometry.rootDirOffset, geometry.rootDirOffset + geometry.rootDirBytes), 16)
        .find((found) => found.name === "big.bin")!
      const runs = walkChain(geometry, fat, entry.firstCluster, Math.ceil(100_000 / geometry.clusterBytes))
      expect(typeof runs !== "string" && runs.length).toBeGreaterThan(1)
      expect(clusterOffset(geometry, entry.firstCluster)).toBeLessThan(bytes.length)
      const { files } = yield* Effect.flatMap(Effect.service(KvRo), readWholeStore).pipe(Effect.provide(fatOf(image)))
      expect(files).toEqual(new Map([...pieces].filter(([name]) => name !== "b.bin")))
      yield* Effect.promise(() => removeTemp(source))
    }))
})

describe.skipIf(!haveTools)("FAT images made by makeFatImage", () => {
  for (const fatType of [undefined, 16, 32] as const) {
    it.live(`${fatType === undefined ? "FAT12 (chosen by size)" : `FAT${fatType}`}: fsck.fat finds no problem and mcopy extracts the tree`, () =>
      Effect.gen(function* () {
        const image = join(temp, `ours-${fatType ?? "auto"}.img`)
        yield* makeFatImage(fixture, image, fatType === undefined ? {} : { fatType })
        const report = run("fsck.fat", ["-n", "-v", image])
        expect(report).toContain(`${fatType ?? 12} bit entries`)
        const out = yield* Effect.promise(() => makeTemp("mcopy-out"))
        run("mcopy", ["-s", "-m", "-i", image, "::/*", out])
        for (const [path, data] of fixtureFiles) {
          expect(new Uint8Array(yield* Effect.promise(() => readFile(join(out, path)))), path).toEqual(data)
          expect((yield* Effect.promise(() => stat(join(out, path)))).mtimeMs, path).toBe(fixtureMtime)
        }
        for (const dir of fixtureDirectories) expect((yield* Effect.promise(() => stat(join(out, dir)))).isDirectory()).toBe(true)
        yield* Effect.promise(() => removeTemp(out))
      }))
  }

  it.live("a tree that does not fit the requested size is a typed build error", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(makeFatImage(fixture, join(temp, "small.img"), { bytes: 64 * 1024 }))
      expect(error._tag).toBe("KvBuildError")
      expect(error.message).toContain("does not fit")
    }))
})
