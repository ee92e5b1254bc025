// device-usage/kv_ro: compare the store's `secret` against a known constant.
import { Effect } from "effect"
import { KvRo } from "effect-uk"

const ourSecret = "foo\n"

/** Read `secret` and check it; a mismatch or a missing key fails the unikernel. */
export const Main = {
  start: Effect.gen(function* () {
    const kv = yield* KvRo
    const entries = yield* kv.list("")
    yield* Effect.logDebug(`the store holds ${entries.map((e) => `${e.name} (${e.kind})`).join(", ")}`)
    const stored = new TextDecoder().decode(yield* kv.get("secret"))
    if (stored !== ourSecret) {
      yield* Effect.logWarning("The secret provided does not match!")
      return yield* Effect.fail(new Error(`secret is ${JSON.stringify(stored)}, expected ${JSON.stringify(ourSecret)}`))
    }
    yield* Effect.log("Contents of extremely secret vital storage confirmed!")
  }),
}
