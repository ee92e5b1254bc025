// tutorial/hello-key: say hello with a configurable greeting.
import { Duration, Effect } from "effect"
import { Key, KeyType, Time } from "effect-uk"

/** How to say hello: set with `configure --hello=…` or `./hello --hello=…`. */
export const hello = Key.create("hello", KeyType.string, {
  doc: "How to say hello.",
  default: "Hello World!",
})

/** The pause after each greeting, in milliseconds. */
export const interval = Key.create("interval", KeyType.int, {
  doc: "Milliseconds to sleep after each greeting.",
  default: 1000,
})

/** The unikernel: log the greeting four times. */
export const Hello = Effect.gen(function* () {
  const time = yield* Time
  const greeting = yield* hello
  const pause = Duration.millis(yield* interval)
  for (let n = 4; n > 0; n--) {
    yield* Effect.log(greeting)
    yield* time.sleep(pause)
  }
})
