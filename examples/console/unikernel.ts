// console (2015 tutorial): print "hello" and "world" five times through the
// Console device, sleeping between them.
import { Duration, Effect } from "effect"
import { Console, Key, KeyType, Time } from "effect-uk"

/** The pause between "hello" and "world", in milliseconds. */
export const interval = Key.create("interval", KeyType.int, {
  doc: "Milliseconds to sleep between hello and world.",
  default: 1000,
})

/** The unikernel: needs a console and a timer. */
export const Main = {
  start: Effect.gen(function* () {
    const console = yield* Console
    const time = yield* Time
    const pause = Duration.millis(yield* interval)
    for (let i = 0; i < 5; i++) {
      yield* console.log("hello")
      yield* time.sleep(pause)
      yield* console.log("world")
    }
  }),
}
