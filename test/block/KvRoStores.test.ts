import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { mkdir, readFile, symlink, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import { layerFile } from "../../src/block/BlockFile.ts"
import { layerMemory } from "../../src/block/BlockMemory.ts"
import { makeFatImage } from "../../src/block/FatImage.ts"
import { KvRo } from "../../src/block/KvRo.ts"
import { layerArchive } from "../../src/block/KvRoArchive.ts"
import { crunchModuleSource, layerCrunch, writeCrunchModule } from "../../src/block/KvRoCrunch.ts"
import type { CrunchEntry } from "../../src/block/KvRoCrunch.ts"
import { layerDirect } from "../../src/block/KvRoDirect.ts"
import { layerFat } from "../../src/block/KvRoFat.ts"
import { makeTarImage } from "../../src/block/TarImage.ts"
import { makeFixture, makeTemp, removeTemp, writeTree } from "./fixture.ts"
import { kvRoSuite } from "./kvRoSuite.ts"

/** Import a generated crunch module and serve it. */
const crunchStore = async (fixture: string, temp: string) => {
  const module = join(temp, "crunched.ts")
  await Effect.runPromise(writeCrunchModule(fixture, module))
  const generated = (await import(pathToFileURL(module).href)) as { readonly entries: ReadonlyArray<CrunchEntry> }
  return layerCrunch(generated.entries)
}

/** A FAT image of the fixture, served from a read-only file device. */
const fatStore = (fatType?: 12 | 16 | 32) => async (fixture: string, temp: string) => {
  const image = join(temp, "fixture.fat")
  await Effect.runPromise(makeFatImage(fixture, image, fatType === undefined ? {} : { fatType }))
  return layerFat.pipe(Layer.provide(layerFile({ path: image, readOnly: true })))
}

kvRoSuite("crunch", crunchStore)
kvRoSuite("direct", async (fixture) => layerDirect(fixture))
kvRoSuite("fat (FAT12, chosen by size)", fatStore())
kvRoSuite("fat (FAT16)", fatStore(16))
kvRoSuite("fat (FAT32)", fatStore(32))
kvRoSuite("archive", async (fixture, temp) => {
  const archive = join(temp, "fixture.tar")
  await Effect.runPromise(makeTarImage(fixture, archive))
  return layerArchive.pipe(Layer.provide(layerFile({ path: archive, readOnly: true })))
})
kvRoSuite("archive on a 4096-byte-sector memory device", async (fixture, temp) => {
  const archive = join(temp, "fixture.tar")
  await Effect.runPromise(makeTarImage(fixture, archive))
  return layerArchive.pipe(Layer.provide(layerMemory({ contents: await readFile(archive), sectorSize: 4096 })))
})

describe("crunch", () => {
  it.live("generates the same module for the same tree, wherever it is", () =>
    Effect.gen(function* () {
      const first = yield* Effect.promise(makeFixture)
      const second = yield* Effect.promise(makeFixture)
      const source = yield* crunchModuleSource(first)
      expect(yield* crunchModuleSource(second)).toBe(source)
      expect(source).not.toContain("import")
      expect(source).toContain('path: "nested/deeper/deepest/leaf.txt"')
      yield* Effect.promise(() => Promise.all([removeTemp(first), removeTemp(second)]))
    }))

  it.effect("refuses generated entries that escape the root", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(Effect.service(KvRo).pipe(
        Effect.provide(layerCrunch([{ path: "../x", kind: "value", mtime: 0, size: 0, base64: "" }])),
      ))
      expect(error._tag).toBe("KvCorrupt")
    }))
})

describe("direct", () => {
  it.live("refuses keys that leave the root through a symbolic link, and hides such links", () =>
    Effect.gen(function* () {
      const outside = yield* Effect.promise(() => makeTemp("outside"))
      const root = yield* Effect.promise(() => makeTemp("root"))
      yield* Effect.promise(async () => {
        await writeFile(join(outside, "secret.txt"), "secret")
        await writeTree(root, new Map([["inside.txt", new TextEncoder().encode("inside")]]), [])
        await mkdir(join(root, "dir"))
        await symlink(join(outside, "secret.txt"), join(root, "escape.txt"))
        await symlink(outside, join(root, "dir", "escape-dir"))
        await symlink(join(root, "inside.txt"), join(root, "alias.txt"))
      })
      yield* Effect.gen(function* () {
        const kv = yield* KvRo
        expect((yield* Effect.flip(kv.get("escape.txt")))._tag).toBe("KvInvalidKey")
        expect((yield* Effect.flip(kv.get("dir/escape-dir/secret.txt")))._tag).toBe("KvInvalidKey")
        expect(new TextDecoder().decode(yield* kv.get("alias.txt"))).toBe("inside")
        expect(yield* kv.list("")).toEqual([
          { name: "alias.txt", kind: "value" },
          { name: "dir", kind: "dictionary" },
          { name: "inside.txt", kind: "value" },
        ])
        expect(yield* kv.list("dir")).toEqual([])
      }).pipe(Effect.provide(layerDirect(root)))
      yield* Effect.promise(() => Promise.all([removeTemp(outside), removeTemp(root)]))
    }))
})
