/**
 * The behaviour every `KvRo` implementation must have, checked against the
 * fixture tree: run by each implementation's test file.
 */
import { describe, expect, it } from "@effect/vitest"
import { fc } from "@fast-check/vitest"
import { Effect } from "effect"
import type { Layer } from "effect"
import { createHash } from "node:crypto"
import { afterAll, beforeAll } from "vitest"
import { digestListing, KvRo } from "../../src/block/KvRo.ts"
import type { KvEntry } from "../../src/block/KvRo.ts"
import { fixtureDirectories, fixtureFiles, fixtureMtime, makeFixture, makeTemp, removeTemp } from "./fixture.ts"

/** The listing the fixture's directory `dir` (`""` for the root) must have. */
export const expectedListing = (dir: string): Array<KvEntry> => {
  const prefix = dir === "" ? "" : `${dir}/`
  const names = new Map<string, KvEntry["kind"]>()
  for (const path of [...fixtureFiles.keys(), ...fixtureDirectories]) {
    if (!path.startsWith(prefix)) continue
    const [name, ...rest] = path.slice(prefix.length).split("/")
    const kind = rest.length > 0 || fixtureDirectories.includes(path) ? "dictionary" : "value"
    names.set(name!, kind)
  }
  return [...names].map(([name, kind]) => ({ name, kind })).sort((a, b) => (a.name < b.name ? -1 : 1))
}

/** Makes the store to test from the fixture directory, using `temp` for any image. */
export type MakeStore = (fixture: string, temp: string) => Promise<Layer.Layer<KvRo, unknown>>

/** Run the shared suite against the store `makeStore` builds. */
export const kvRoSuite = (name: string, makeStore: MakeStore) =>
  describe(`KvRo ${name}`, () => {
    let fixture = ""
    let temp = ""
    let layer: Layer.Layer<KvRo, unknown> | undefined
    beforeAll(async () => {
      fixture = await makeFixture()
      temp = await makeTemp("store")
      layer = await makeStore(fixture, temp)
    })
    afterAll(async () => {
      await removeTemp(fixture)
      await removeTemp(temp)
    })
    const withStore = <A>(body: (kv: KvRo["Service"]) => Effect.Effect<A, unknown>) =>
      Effect.suspend(() => Effect.flatMap(Effect.service(KvRo), body).pipe(Effect.provide(layer!)))
    const big = fixtureFiles.get("big.bin")!

    it.live("gets every file byte for byte, with its size", () =>
      withStore((kv) => Effect.gen(function* () {
        for (const [path, data] of fixtureFiles) {
          expect(yield* kv.get(path), path).toEqual(data)
          expect(yield* kv.size(path), path).toBe(data.length)
        }
      })))

    it.live("lists every directory, sorted, with kinds", () =>
      withStore((kv) => Effect.gen(function* () {
        for (const dir of ["", ...fixtureDirectories]) expect(yield* kv.list(dir), dir).toEqual(expectedListing(dir))
        expect(yield* kv.list("/nested")).toEqual(expectedListing("nested"))
      })))

    it.live("tells values, dictionaries and absent keys apart", () =>
      withStore((kv) => Effect.gen(function* () {
        expect(yield* kv.exists("hello.txt")).toBe("value")
        expect(yield* kv.exists("empty.dat")).toBe("value")
        expect(yield* kv.exists("nested/deeper")).toBe("dictionary")
        expect(yield* kv.exists("emptydir")).toBe("dictionary")
        expect(yield* kv.exists("/")).toBe("dictionary")
        expect(yield* kv.exists("nope")).toBeUndefined()
        expect(yield* kv.exists("nested/nope/deeper")).toBeUndefined()
      })))

    it.live("reads partial ranges, shorter or empty past the end", () =>
      withStore((kv) => Effect.gen(function* () {
        expect(yield* kv.getPartial("big.bin", 0, 10)).toEqual(big.subarray(0, 10))
        expect(yield* kv.getPartial("big.bin", 511, 1026)).toEqual(big.subarray(511, 1537))
        expect(yield* kv.getPartial("big.bin", 100_000, 65_536)).toEqual(big.subarray(100_000, 165_536))
        expect(yield* kv.getPartial("big.bin", big.length - 10, 100)).toEqual(big.subarray(big.length - 10))
        expect((yield* kv.getPartial("big.bin", big.length + 5, 10)).length).toBe(0)
        expect((yield* kv.getPartial("empty.dat", 0, 10)).length).toBe(0)
        expect((yield* Effect.flip(kv.getPartial("big.bin", -1, 10)))._tag).toBe("KvInvalidRange")
      })))

    it.live("any partial range matches the file (property)", () =>
      withStore((kv) =>
        Effect.promise(() =>
          fc.assert(
            fc.asyncProperty(fc.nat(big.length + 100), fc.nat(70_000), async (offset, length) => {
              const part = await Effect.runPromise(kv.getPartial("big.bin", offset, length))
              expect(part).toEqual(big.subarray(offset, offset + length))
            }),
            { numRuns: 60 },
          ))))

    it.live("keeps modification times", () =>
      withStore((kv) => Effect.gen(function* () {
        expect(yield* kv.lastModified("hello.txt")).toBe(fixtureMtime)
        expect(yield* kv.lastModified("nested/deeper/deepest/leaf.txt")).toBe(fixtureMtime)
        expect(yield* kv.lastModified("nested/deeper")).toBe(fixtureMtime)
      })))

    it.live("digests values (SHA-256) and dictionaries (their listing)", () =>
      withStore((kv) => Effect.gen(function* () {
        expect(yield* kv.digest("big.bin")).toBe(createHash("sha256").update(big).digest("hex"))
        expect(yield* kv.digest("empty.dat")).toBe(createHash("sha256").digest("hex"))
        expect(yield* kv.digest("nested")).toBe(digestListing(expectedListing("nested")))
        expect(yield* kv.digest("")).toBe(digestListing(expectedListing("")))
      })))

    it.live("fails with typed errors", () =>
      withStore((kv) => Effect.gen(function* () {
        const missing = yield* Effect.flip(kv.get("missing.txt"))
        expect(missing._tag).toBe("KvNotFound")
        expect(missing.message).toContain("/missing.txt")
        expect((yield* Effect.flip(kv.get("hello.txt/inside")))._tag).toBe("KvNotFound")
        expect((yield* Effect.flip(kv.get("nested")))._tag).toBe("KvValueExpected")
        expect((yield* Effect.flip(kv.size("nested")))._tag).toBe("KvValueExpected")
        expect((yield* Effect.flip(kv.list("hello.txt")))._tag).toBe("KvDictionaryExpected")
        expect((yield* Effect.flip(kv.get("../etc/passwd")))._tag).toBe("KvInvalidKey")
        expect((yield* Effect.flip(kv.get("nested/../hello.txt")))._tag).toBe("KvInvalidKey")
        expect((yield* Effect.flip(kv.list("//etc")))._tag).toBe("KvInvalidKey")
        expect((yield* Effect.flip(kv.exists("a\\b")))._tag).toBe("KvInvalidKey")
      })))
  })

/** Everything a store holds: each file's bytes by path, and the directories. */
export const readWholeStore = (kv: KvRo["Service"]) =>
  Effect.gen(function* () {
    const files = new Map<string, Uint8Array>()
    const directories: Array<string> = []
    const pending = [""]
    for (let dir = pending.pop(); dir !== undefined; dir = pending.pop()) {
      for (const entry of yield* kv.list(dir)) {
        const path = dir === "" ? entry.name : `${dir}/${entry.name}`
        if (entry.kind === "dictionary") {
          directories.push(path)
          pending.push(path)
        } else {
          files.set(path, yield* kv.get(path))
        }
      }
    }
    return { files, directories: directories.sort() }
  })
