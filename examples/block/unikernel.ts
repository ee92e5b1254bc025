// device-usage/block: write patterns of 1, 2 and 12 sectors at the first and
// last sectors and read them back, then check that reads and writes past the
// end of the device fail.
import { Effect } from "effect"
import { Block, Log } from "effect-uk"

/** A buffer of `sectors` sectors filled with a pattern unique to this test. */
const pattern = (sectors: number, sectorSize: number, seed: number): Uint8Array =>
  Uint8Array.from({ length: sectors * sectorSize }, (_, i) => (i * 31 + seed * 7 + 1) & 0xff)

/** The block test: ten checks, counted and logged as the tutorial does. */
export const Main = {
  start: Effect.gen(function* () {
    const block = yield* Block
    const info = yield* block.info
    yield* Effect.log(`sectors = ${info.sectors}\nread_write=${info.readWrite}\nsector_size=${info.sectorSize}\n`)
    let started = 0
    let passed = 0
    const check = (ok: boolean) => {
      started++
      if (ok) passed++
    }
    let seed = 0
    for (const count of [1, 2, 12]) {
      for (const sector of [0n, info.sectors - BigInt(count)]) {
        const written = pattern(count, info.sectorSize, ++seed)
        yield* Effect.log(`writing ${count} sectors at ${sector}`)
        yield* block.write(sector, [written])
        const read = new Uint8Array(written.length)
        yield* block.read(sector, [read])
        check(read.every((byte, i) => byte === written[i]))
      }
    }
    const expectFailure = (what: string, operation: Effect.Effect<void, unknown>) =>
      Effect.gen(function* () {
        yield* Effect.logError(`Expecting error output from the following operation...\n${what}`)
        const result = yield* Effect.result(operation)
        if (result._tag === "Failure") yield* Effect.logError(String((result.failure as Error).message))
        check(result._tag === "Failure")
      })
    const one = new Uint8Array(info.sectorSize)
    const twelve = new Uint8Array(12 * info.sectorSize)
    yield* expectFailure(`write 1 sector at ${info.sectors}`, block.write(info.sectors, [one]))
    yield* expectFailure(`write 12 sectors at ${info.sectors - 11n}`, block.write(info.sectors - 11n, [twelve]))
    yield* expectFailure(`read 1 sector at ${info.sectors}`, block.read(info.sectors, [one]))
    yield* expectFailure(`read 12 sectors at ${info.sectors - 11n}`, block.read(info.sectors - 11n, [twelve]))
    yield* block.flush
    yield* Effect.log("Test sequence finished\n")
    yield* Effect.log(`Total tests started: ${started}\n`)
    yield* Effect.log(`Total tests passed:  ${passed}\n`)
    yield* Effect.log(`Total tests failed:  ${started - passed}\n`)
    if (passed !== started) return yield* Effect.fail(new Error(`${started - passed} block tests failed`))
  }).pipe(Log.withSource("block")),
}
