// tutorial/hello: log "hello" four times, one second apart.
import { Duration, Effect } from "effect"
import { Key, KeyType, Time } from "effect-uk"

/** The pause after each hello, in milliseconds. */
export const interval = Key.create("interval", KeyType.int, {
  doc: "Milliseconds to sleep after each hello.",
  default: 1000,
})

/** The unikernel: needs only a `Time` device. */
export const Hello = Effect.gen(function* () {
  const time = yield* Time
  const pause = Duration.millis(yield* interval)
  for (let n = 4; n > 0; n--) {
    yield* Effect.log("hello")
    yield* time.sleep(pause)
  }
})
