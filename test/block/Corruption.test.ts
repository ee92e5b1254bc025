import { describe, expect, it } from "@effect/vitest"
import { fc } from "@fast-check/vitest"
import { Cause, Effect, Exit, Layer } from "effect"
import { beforeAll } from "vitest"
import type { Block } from "../../src/block/Block.ts"
import { layerMemory } from "../../src/block/BlockMemory.ts"
import { scanDirectory } from "../../src/block/DirectoryScan.ts"
import { parseBootSector } from "../../src/block/FatFormat.ts"
import type { FatGeometry } from "../../src/block/FatFormat.ts"
import { fatImageOfEntries } from "../../src/block/FatImage.ts"
import { KvRo } from "../../src/block/KvRo.ts"
import type { KvRoError } from "../../src/block/KvRo.ts"
import { layerArchive } from "../../src/block/KvRoArchive.ts"
import { layerFat } from "../../src/block/KvRoFat.ts"
import { tarOfEntries } from "../../src/block/TarImage.ts"
import { makeFixture, removeTemp } from "./fixture.ts"
import { readWholeStore } from "./kvRoSuite.ts"

let fat: Uint8Array = new Uint8Array(0)
let tar: Uint8Array = new Uint8Array(0)
let geometry: FatGeometry
beforeAll(async () => {
  const fixture = await makeFixture()
  const entries = await Effect.runPromise(scanDirectory(fixture))
  const image = fatImageOfEntries(entries, { fatType: 16 })
  if (typeof image === "string") throw new Error(image)
  fat = image
  tar = tarOfEntries(entries)
  const parsed = parseBootSector(fat, fat.length)
  if (typeof parsed === "string") throw new Error(parsed)
  geometry = parsed
  await removeTemp(fixture)
})

/** A store layer reading an image from a block device. */
type Reader = Layer.Layer<KvRo, KvRoError, Block>

/** Run `body` against the store `reader` makes of `image` (held in a memory device). */
const onImage = <A>(reader: Reader, image: Uint8Array, body: (kv: KvRo["Service"]) => Effect.Effect<A, KvRoError>) =>
  Effect.flatMap(Effect.service(KvRo), body).pipe(Effect.provide(reader.pipe(Layer.provide(layerMemory({ contents: image })))))

/** The byte offset of the root-directory entry whose 11-byte short name is `shortName`. */
const rootEntryOffset = (image: Uint8Array, shortName: string): number => {
  for (let at = geometry.rootDirOffset; at < geometry.rootDirOffset + geometry.rootDirBytes; at += 32) {
    if (new TextDecoder().decode(image.subarray(at, at + 11)) === shortName) return at
  }
  throw new Error(`no entry ${shortName}`)
}

/** A copy of the FAT16 image with `change` applied. */
const alteredFat = (change: (image: Uint8Array, view: DataView) => void): Uint8Array => {
  const image = fat.slice()
  change(image, new DataView(image.buffer))
  return image
}

/** The first cluster of a root entry, and where its table entry is. */
const firstCluster = (view: DataView, entry: number) => view.getUint16(entry + 26, true)
const fatEntryOffset = (cluster: number) => geometry.reservedSectors * 512 + cluster * 2

/** The tag of the error an effect fails with. */
const failureTag = <A>(effect: Effect.Effect<A, KvRoError>) => Effect.map(Effect.flip(effect), (error) => error._tag)

describe("hostile FAT images", () => {
  it.effect("a truncated image is refused with KvCorrupt", () =>
    Effect.gen(function* () {
      const tag = yield* failureTag(onImage(layerFat, fat.subarray(0, fat.length / 2), (kv) => kv.list("")))
      expect(tag).toBe("KvCorrupt")
      expect(yield* failureTag(onImage(layerFat, fat.subarray(0, 100), (kv) => kv.list("")))).toBe("KvCorrupt")
      expect(yield* failureTag(onImage(layerFat, new Uint8Array(0), (kv) => kv.list("")))).toBe("KvCorrupt")
    }))

  it.effect("a boot sector without its signature is refused", () =>
    Effect.gen(function* () {
      const image = alteredFat((bytes) => bytes.set([0, 0], 510))
      const error = yield* Effect.flip(onImage(layerFat, image, (kv) => kv.list("")))
      expect(error._tag).toBe("KvCorrupt")
      expect(error.message).toContain("0x55AA")
    }))

  it.effect("a cluster chain loop fails reads of that file only", () =>
    Effect.gen(function* () {
      const image = alteredFat((_, view) => {
        const first = firstCluster(view, rootEntryOffset(fat, "BIG~1   BIN"))
        view.setUint16(fatEntryOffset(first + 5), first + 2, true)
      })
      const error = yield* Effect.flip(onImage(layerFat, image, (kv) => kv.get("big.bin")))
      expect(error._tag).toBe("KvCorrupt")
      expect(error.message).toContain("loops")
      const hello = yield* onImage(layerFat, image, (kv) => kv.get("hello.txt"))
      expect(new TextDecoder().decode(hello)).toBe("Hello, world!\n")
    }))

  it.effect("a cluster number outside the volume is refused", () =>
    Effect.gen(function* () {
      const image = alteredFat((_, view) => view.setUint16(rootEntryOffset(fat, "HELLO~1 TXT") + 26, 0xfff0, true))
      const error = yield* Effect.flip(onImage(layerFat, image, (kv) => kv.get("hello.txt")))
      expect(error._tag).toBe("KvCorrupt")
      expect(error.message).toContain("outside")
    }))

  it.effect("a size larger than the cluster chain is refused", () =>
    Effect.gen(function* () {
      const image = alteredFat((_, view) => view.setUint32(rootEntryOffset(fat, "HELLO~1 TXT") + 28, 0xffffffff, true))
      const error = yield* Effect.flip(onImage(layerFat, image, (kv) => kv.get("hello.txt")))
      expect(error._tag).toBe("KvCorrupt")
      expect(error.message).toContain("ends after 1")
    }))

  it.effect("a directory that contains itself is refused", () =>
    Effect.gen(function* () {
      const image = alteredFat((bytes, view) => {
        const nested = firstCluster(view, rootEntryOffset(fat, "NESTED~1   "))
        const start = (geometry.firstDataSector + (nested - 2) * geometry.sectorsPerCluster) * 512
        // The first named entry after "." and ".." (and its long name) becomes a subdirectory pointing back at "nested".
        for (let at = start + 64; at < start + geometry.clusterBytes; at += 32) {
          if (bytes[at + 11] !== 0x0f) {
            bytes[at + 11] = 0x10
            view.setUint16(at + 26, nested, true)
            break
          }
        }
      })
      const error = yield* Effect.flip(onImage(layerFat, image, (kv) => kv.list("")))
      expect(error._tag).toBe("KvCorrupt")
      expect(error.message).toContain("used twice")
    }))
})

/** Overwrite the octal size field of the tar header at `header` and fix its checksum. */
const withTarSize = (header: number, field: string): Uint8Array => {
  const image = tar.slice()
  image.set(new TextEncoder().encode(field), header + 124)
  image.fill(0x20, header + 148, header + 156)
  const sum = image.subarray(header, header + 512).reduce((total, byte) => total + byte, 0)
  image.set(new TextEncoder().encode(`${sum.toString(8).padStart(6, "0")}\0 `), header + 148)
  return image
}

describe("hostile tar archives", () => {
  it.effect("a truncated archive is refused with KvCorrupt", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(onImage(layerArchive, tar.subarray(0, tar.length / 2), (kv) => kv.list("")))
      expect(error._tag).toBe("KvCorrupt")
      expect(error.message).toContain("extends past")
    }))

  it.effect("a header whose checksum does not match is refused", () =>
    Effect.gen(function* () {
      const image = tar.slice()
      image[10] = image[10]! ^ 0xff
      expect(yield* failureTag(onImage(layerArchive, image, (kv) => kv.list("")))).toBe("KvCorrupt")
    }))

  it.effect("an absurd member size is refused", () =>
    Effect.gen(function* () {
      expect(yield* failureTag(onImage(layerArchive, withTarSize(0, "77777777777\0"), (kv) => kv.list("")))).toBe("KvCorrupt")
      expect(yield* failureTag(onImage(layerArchive, withTarSize(0, "1234x\0"), (kv) => kv.list("")))).toBe("KvCorrupt")
    }))

  it.effect("a member path with .. is refused", () =>
    Effect.gen(function* () {
      const image = tar.slice()
      const name = new TextEncoder().encode("../../etc/passwd\0")
      image.set(name, 0)
      image.fill(0x20, 148, 156)
      const sum = image.subarray(0, 512).reduce((total, byte) => total + byte, 0)
      image.set(new TextEncoder().encode(`${sum.toString(8).padStart(6, "0")}\0 `), 148)
      const error = yield* Effect.flip(onImage(layerArchive, image, (kv) => kv.list("")))
      expect(error._tag).toBe("KvCorrupt")
      expect(error.message).toContain("..")
    }))
})

/** Typed failures a damaged image may give; anything else (a defect, a hang) fails the property. */
const allowedTags = new Set(["KvCorrupt", "KvNotFound", "KvValueExpected", "KvDictionaryExpected", "KvInvalidKey", "BlockOutOfRange"])

/** Damage `image` at random places among its first `span` bytes (and maybe cut it short), then read everything in it. */
const survivesDamage = (reader: Reader, image: () => Uint8Array, span: () => number) =>
  fc.asyncProperty(
    fc.array(fc.record({ at: fc.double({ min: 0, max: 1, noNaN: true }), value: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 40 }),
    fc.option(fc.double({ min: 0, max: 1, noNaN: true })),
    async (changes, cut) => {
      const damaged = image().slice()
      for (const { at, value } of changes) damaged[Math.min(Math.floor(at * span()), damaged.length - 1)] = value
      const bytes = cut === null ? damaged : damaged.subarray(0, Math.floor(cut * damaged.length))
      const exit = await Effect.runPromiseExit(onImage(reader, bytes, readWholeStore).pipe(Effect.timeout("5 seconds")))
      if (Exit.isFailure(exit)) {
        const error = Cause.squash(exit.cause) as { readonly _tag?: string }
        expect(Cause.hasDies(exit.cause), String(error)).toBe(false)
        expect(allowedTags.has(error._tag ?? ""), String(error)).toBe(true)
      }
    },
  )

describe("random damage (property)", () => {
  it("never throws, dies or hangs on a damaged FAT image", () =>
    fc.assert(survivesDamage(layerFat, () => fat, () => fat.length), { numRuns: 150 }))

  it("never throws, dies or hangs when the damage hits the boot sector, the FATs and the directories", () =>
    fc.assert(survivesDamage(layerFat, () => fat, () => geometry.firstDataSector * 512 + 16 * 1024), { numRuns: 300 }))

  it("never throws, dies or hangs on a damaged tar archive", () =>
    fc.assert(survivesDamage(layerArchive, () => tar, () => tar.length), { numRuns: 150 }))

  it("never throws, dies or hangs when the damage hits the tar headers", () =>
    fc.assert(survivesDamage(layerArchive, () => tar, () => 4096), { numRuns: 300 }))
})
