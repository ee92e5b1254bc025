import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Exit, Layer, Scope } from "effect"
import { readFile, readlink, readdir, stat, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { afterAll, beforeAll } from "vitest"
import { Block } from "../../src/block/Block.ts"
import type { BlockError } from "../../src/block/Block.ts"
import { layerFile } from "../../src/block/BlockFile.ts"
import { createImage, deleteImage } from "../../src/block/BlockImage.ts"
import { layerMemory } from "../../src/block/BlockMemory.ts"
import { makeTemp, pseudoRandomBytes, removeTemp } from "./fixture.ts"

let temp = ""
beforeAll(async () => {
  temp = await makeTemp("block")
})
afterAll(() => removeTemp(temp))

/** The behaviour every block device must have, run against one layer of 64 sectors of 512 bytes. */
const blockContract = (name: string, makeLayer: () => Promise<Layer.Layer<Block, BlockError>>) =>
  describe(`${name}: the Block contract`, () => {
    const withBlock = <A>(body: (block: Block["Service"]) => Effect.Effect<A, unknown>) =>
      Effect.promise(makeLayer).pipe(Effect.flatMap((layer) => Effect.flatMap(Effect.service(Block), body).pipe(Effect.provide(layer))))

    it.live("reports its geometry", () =>
      withBlock((block) => block.info).pipe(Effect.map((info) => {
        expect(info).toEqual({ readWrite: true, sectorSize: 512, sectors: 64n })
      })))

    it.live("reads back what it wrote, across several buffers", () =>
      withBlock((block) => Effect.gen(function* () {
        const data = pseudoRandomBytes(5 * 512, 7)
        yield* block.write(3n, [data.subarray(0, 512), data.subarray(512, 5 * 512)])
        const first = new Uint8Array(2 * 512)
        const second = new Uint8Array(3 * 512)
        yield* block.read(3n, [first, second])
        expect(first).toEqual(data.subarray(0, 1024))
        expect(second).toEqual(data.subarray(1024))
        const last = new Uint8Array(512)
        yield* block.write(63n, [data.subarray(0, 512)])
        yield* block.read(63n, [last])
        expect(last).toEqual(data.subarray(0, 512))
        yield* block.flush
      })))

    it.live("refuses requests past the end", () =>
      withBlock((block) => Effect.gen(function* () {
        const error = yield* Effect.flip(block.read(63n, [new Uint8Array(1024)]))
        expect(error._tag).toBe("BlockOutOfRange")
        expect(error.message).toContain("64 sectors")
        expect((yield* Effect.flip(block.write(64n, [new Uint8Array(512)])))._tag).toBe("BlockOutOfRange")
        expect((yield* Effect.flip(block.read(-1n, [new Uint8Array(512)])))._tag).toBe("BlockOutOfRange")
      })))

    it.live("refuses buffers that are not whole sectors", () =>
      withBlock((block) => Effect.gen(function* () {
        const error = yield* Effect.flip(block.read(0n, [new Uint8Array(512), new Uint8Array(100)]))
        expect(error._tag).toBe("BlockUnaligned")
        expect(error.message).toContain("multiple of 512")
        expect((yield* Effect.flip(block.write(0n, [new Uint8Array(513)])))._tag).toBe("BlockUnaligned")
      })))

    it.live("is disconnected once its layer is released", () =>
      Effect.gen(function* () {
        const scope = yield* Scope.make()
        const context = yield* Layer.buildWithScope(yield* Effect.promise(makeLayer), scope)
        const block = Context.get(context, Block)
        yield* block.read(0n, [new Uint8Array(512)])
        yield* Scope.close(scope, Exit.void)
        const error = yield* Effect.flip(block.read(0n, [new Uint8Array(512)]))
        expect(error._tag).toBe("BlockDisconnected")
        expect((yield* Effect.flip(block.flush))._tag).toBe("BlockDisconnected")
      }))
  })

blockContract("memory", async () => layerMemory({ sectors: 64 }))
blockContract("file", async () => {
  const path = join(temp, `contract-${Math.random().toString(36).slice(2)}.img`)
  await Effect.runPromise(createImage(path, 64 * 512))
  return layerFile({ path })
})

describe("layerMemory", () => {
  it.effect("serves given contents, padded to a whole sector", () =>
    Effect.gen(function* () {
      const block = yield* Block
      expect((yield* block.info).sectors).toBe(2n)
      const sectors = new Uint8Array(1024)
      yield* block.read(0n, [sectors])
      expect(sectors.subarray(0, 600)).toEqual(pseudoRandomBytes(600, 3))
      expect(sectors.subarray(600).every((byte) => byte === 0)).toBe(true)
    }).pipe(Effect.provide(layerMemory({ contents: pseudoRandomBytes(600, 3) }))))

  it.effect("refuses writes when read-only", () =>
    Effect.gen(function* () {
      const block = yield* Block
      expect((yield* block.info).readWrite).toBe(false)
      expect((yield* Effect.flip(block.write(0n, [new Uint8Array(512)])))._tag).toBe("BlockReadOnly")
    }).pipe(Effect.provide(layerMemory({ sectors: 4, readOnly: true }))))
})

describe("layerFile", () => {
  it.live("writes reach the file, in the configured sector size", () =>
    Effect.gen(function* () {
      const path = join(temp, "sectors4k.img")
      yield* createImage(path, 8 * 4096)
      const data = pseudoRandomBytes(4096, 11)
      yield* Effect.gen(function* () {
        const block = yield* Block
        expect(yield* block.info).toEqual({ readWrite: true, sectorSize: 4096, sectors: 8n })
        yield* block.write(2n, [data])
        yield* block.flush
      }).pipe(Effect.provide(layerFile({ path, sectorSize: 4096 })))
      const bytes = yield* Effect.promise(() => readFile(path))
      expect(new Uint8Array(bytes.subarray(2 * 4096, 3 * 4096))).toEqual(data)
    }))

  it.live("read-only mode reads but refuses writes; flush has nothing to do", () =>
    Effect.gen(function* () {
      const path = join(temp, "readonly.img")
      yield* Effect.promise(() => writeFile(path, pseudoRandomBytes(2048, 5)))
      yield* Effect.gen(function* () {
        const block = yield* Block
        expect((yield* block.info).readWrite).toBe(false)
        const sector = new Uint8Array(512)
        yield* block.read(1n, [sector])
        expect(sector).toEqual(pseudoRandomBytes(2048, 5).subarray(512, 1024))
        const error = yield* Effect.flip(block.write(0n, [sector]))
        expect(error._tag).toBe("BlockReadOnly")
        yield* block.flush
      }).pipe(Effect.provide(layerFile({ path, readOnly: true })))
    }))

  it.live("closes the file when the layer is released", () =>
    Effect.gen(function* () {
      const path = join(temp, "closed.img")
      yield* createImage(path, 4096)
      const openOnImage = () =>
        Effect.promise(async () => {
          const links = await Promise.all((await readdir("/proc/self/fd")).map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => "")))
          return links.filter((link) => link === path).length
        })
      const inside = yield* openOnImage().pipe(Effect.provide(layerFile({ path })))
      expect(inside).toBe(1)
      expect(yield* openOnImage()).toBe(0)
    }))

  it.live("a missing image is an I/O failure naming the file", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(Effect.service(Block).pipe(Effect.provide(layerFile({ path: join(temp, "missing.img") }))))
      expect(error._tag).toBe("BlockIoFailure")
      expect(error.message).toContain("missing.img")
    }))
})

describe("createImage and deleteImage", () => {
  it.live("create a sparse zero-filled image of the given size, and delete it", () =>
    Effect.gen(function* () {
      const path = join(temp, "built.img")
      yield* createImage(path, 64 * 1024 * 1024)
      const info = yield* Effect.promise(() => stat(path))
      expect(info.size).toBe(64 * 1024 * 1024)
      expect(info.blocks * 512).toBeLessThan(1024 * 1024)
      yield* deleteImage(path)
      yield* deleteImage(path)
      expect(yield* Effect.promise(() => stat(path).then(() => true, () => false))).toBe(false)
    }))

  it.live("refuse a size that is not whole sectors", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(createImage(join(temp, "odd.img"), 1000))
      expect(error._tag).toBe("BlockUnaligned")
    }))
})
