/**
 * Storage benchmark: `Block` (file layer) sequential read and write against
 * `dd` on the same file, and `KvRo.get` throughput for every implementation
 * (one 64 MiB file; 10,000 small files). Prints a table and writes
 * bench/results/storage.json. Run: node_modules/.bin/node bench/storage.ts
 */
import { Context, Effect, Layer, Scope } from "effect"
import { spawnSync } from "node:child_process"
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { Block } from "../src/block/Block.ts"
import { layerFile } from "../src/block/BlockFile.ts"
import { createImage } from "../src/block/BlockImage.ts"
import { makeFatImage } from "../src/block/FatImage.ts"
import { KvRo } from "../src/block/KvRo.ts"
import { layerArchive } from "../src/block/KvRoArchive.ts"
import { layerCrunch, writeCrunchModule } from "../src/block/KvRoCrunch.ts"
import type { CrunchEntry } from "../src/block/KvRoCrunch.ts"
import { layerDirect } from "../src/block/KvRoDirect.ts"
import { layerFat } from "../src/block/KvRoFat.ts"
import { makeTarImage } from "../src/block/TarImage.ts"

const MiB = 1024 * 1024
const blockBytes = 256 * MiB
const bigFileBytes = 64 * MiB
const smallFiles = 10_000

/** Seconds taken by `body`. */
const timed = async (body: () => Promise<unknown>): Promise<number> => {
  const start = performance.now()
  await body()
  return (performance.now() - start) / 1000
}

/** Seconds `dd` reports for a copy (its own timing, without process start-up). */
const ddSeconds = (args: ReadonlyArray<string>): number => {
  const result = spawnSync("dd", args, { encoding: "utf8" })
  const match = / copied, ([\d.,]+) s/.exec(result.stderr)
  if (result.status !== 0 || match === null) throw new Error(`dd ${args.join(" ")} failed: ${result.stderr}`)
  return Number(match[1]!.replace(",", "."))
}

/** Sequential write then read of the whole image with requests of `requestBytes`, through `Block.layerFile`. */
const blockRun = (path: string, requestBytes: number) =>
  Effect.gen(function* () {
    const block = yield* Block
    const buffer = new Uint8Array(requestBytes).fill(0x5a)
    const sectorsPerRequest = BigInt(requestBytes / 512)
    const requests = blockBytes / requestBytes
    const write = yield* Effect.promise(() => timed(() => Effect.runPromise(Effect.gen(function* () {
      for (let i = 0; i < requests; i++) yield* block.write(BigInt(i) * sectorsPerRequest, [buffer])
      yield* block.flush
    }))))
    const read = yield* Effect.promise(() => timed(() => Effect.runPromise(Effect.gen(function* () {
      for (let i = 0; i < requests; i++) yield* block.read(BigInt(i) * sectorsPerRequest, [buffer])
    }))))
    return { write, read }
  }).pipe(Effect.provide(layerFile({ path })))

/** Throughput of `KvRo.get` over `keys` (after one warm-up pass, `passes` timed passes), and the time to build the layer. */
const getRun = (layer: Layer.Layer<KvRo, unknown>, keys: ReadonlyArray<string>, passes: number) =>
  Effect.scoped(Effect.gen(function* () {
    const scope = yield* Scope.Scope
    const started = performance.now()
    const kv = Context.get(yield* Layer.buildWithScope(layer, scope), KvRo)
    const open = (performance.now() - started) / 1000
    let bytes = 0
    const readAll = Effect.gen(function* () {
      for (const key of keys) bytes += (yield* kv.get(key)).length
    })
    yield* readAll
    bytes = 0
    const seconds = yield* Effect.promise(() => timed(() => Effect.runPromise(Effect.repeat(readAll, { times: passes - 1 }))))
    return { open, seconds, bytes, gets: keys.length * passes }
  }))

/** The four stores over `dir`, built in `work`. */
const stores = async (dir: string, work: string, name: string): Promise<Array<[string, Layer.Layer<KvRo, unknown>]>> => {
  const module = join(work, `${name}.crunch.ts`)
  const fat = join(work, `${name}.fat`)
  const tar = join(work, `${name}.tar`)
  const build = {
    crunch: await timed(() => Effect.runPromise(writeCrunchModule(dir, module))),
    fat: await timed(() => Effect.runPromise(makeFatImage(dir, fat))),
    archive: await timed(() => Effect.runPromise(makeTarImage(dir, tar))),
  }
  console.error(`  built ${name}: crunch ${build.crunch.toFixed(2)} s, fat ${build.fat.toFixed(2)} s, archive ${build.archive.toFixed(2)} s`)
  const generated = (await import(pathToFileURL(module).href)) as { readonly entries: ReadonlyArray<CrunchEntry> }
  return [
    ["crunch", layerCrunch(generated.entries)],
    ["direct", layerDirect(dir)],
    ["fat", layerFat.pipe(Layer.provide(layerFile({ path: fat, readOnly: true })))],
    ["archive", layerArchive.pipe(Layer.provide(layerFile({ path: tar, readOnly: true })))],
  ]
}

const main = async () => {
  const work = await mkdtemp(join(tmpdir(), "effect-uk-bench-"))
  const results: Record<string, unknown> = { date: new Date().toISOString(), node: process.version }
  try {
    console.error(`Block.layerFile vs dd, ${blockBytes / MiB} MiB, in ${work}`)
    const image = join(work, "block.img")
    await Effect.runPromise(createImage(image, blockBytes))
    const blockRows = []
    for (const requestBytes of [64 * 1024, MiB]) {
      const ours = await Effect.runPromise(blockRun(image, requestBytes))
      const count = String(blockBytes / requestBytes)
      const bs = `bs=${requestBytes}`
      const ddWrite = ddSeconds(["if=/dev/zero", `of=${image}`, bs, `count=${count}`, "conv=notrunc,fdatasync"])
      const ddRead = ddSeconds([`if=${image}`, "of=/dev/null", bs, `count=${count}`])
      const mbps = (seconds: number) => blockBytes / MiB / seconds
      blockRows.push({
        request: `${requestBytes / 1024} KiB`,
        writeMBps: mbps(ours.write),
        ddWriteMBps: mbps(ddWrite),
        writeRatio: ddWrite / ours.write,
        readMBps: mbps(ours.read),
        ddReadMBps: mbps(ddRead),
        readRatio: ddRead / ours.read,
      })
    }
    results["block"] = blockRows
    console.table(blockRows.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === "number" ? Number(v.toFixed(2)) : v]))))

    const bigDir = join(work, "big")
    await mkdir(bigDir)
    const big = new Uint8Array(bigFileBytes)
    for (let i = 0; i < big.length; i += 4) big[i] = (i * 2654435761) >>> 24
    await writeFile(join(bigDir, "big.bin"), big)
    const smallDir = join(work, "small")
    const smallKeys: Array<string> = []
    for (let d = 0; d < smallFiles / 100; d++) {
      await mkdir(join(smallDir, `dir${d}`), { recursive: true })
      for (let f = 0; f < 100; f++) {
        const key = `dir${d}/file${f}.txt`
        smallKeys.push(key)
        await writeFile(join(smallDir, key), `small file ${key}\n`.repeat(1 + ((d + f) % 20)))
      }
    }
    console.error("KvRo.get")
    const bigStores = await stores(bigDir, work, "big")
    const smallStores = await stores(smallDir, work, "small")
    const kvRows = []
    for (let i = 0; i < bigStores.length; i++) {
      const [name, bigLayer] = bigStores[i]!
      const large = await Effect.runPromise(getRun(bigLayer, ["big.bin"], 5))
      const small = await Effect.runPromise(getRun(smallStores[i]![1], smallKeys, 1))
      kvRows.push({
        store: name,
        openBigMs: large.open * 1000,
        bigFileMBps: large.bytes / MiB / large.seconds,
        openSmallMs: small.open * 1000,
        smallFilesPerS: small.gets / small.seconds,
      })
    }
    results["kvRo"] = kvRows
    console.table(kvRows.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === "number" ? Math.round(v) : v]))))
    const out = join(dirname(fileURLToPath(import.meta.url)), "results", "storage.json")
    await mkdir(dirname(out), { recursive: true })
    await writeFile(out, JSON.stringify(results, null, 2) + "\n")
    console.error(`wrote ${out}`)
  } finally {
    await rm(work, { recursive: true, force: true })
  }
}

await main()
