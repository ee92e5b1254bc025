// kv_ro_crunch (2015 tutorial): read `a` from one store and `b` from a second
// one and print YES! when they hold the same bytes, NO otherwise.
import { Context, Effect } from "effect"
import { Console, Key, KeyType, KvRo } from "effect-uk"

/** The second store: its own service with the `KvRo` shape (MirageOS's second `kv_ro` argument). */
export class Disk2 extends Context.Service<Disk2, KvRo["Service"]>()("examples/kv_ro_crunch/Disk2") {}

/** How many comparisons to print. */
export const rounds = Key.create("rounds", KeyType.int, { doc: "How many times to compare.", default: 8 })

/** Compare the two files `rounds` times. */
export const Main = {
  start: Effect.gen(function* () {
    const console = yield* Console
    const disk1 = yield* KvRo
    const disk2 = yield* Disk2
    for (let i = yield* rounds; i > 0; i--) {
      const a = yield* disk1.get("a")
      const b = yield* disk2.get("b")
      const same = a.length === b.length && a.every((byte, j) => byte === b[j])
      yield* console.log(same ? "YES!" : "NO")
    }
  }),
}
