// kv_ro_crunch (2015 tutorial): `main $ default_console $ crunch "t" $ crunch "t"`;
// both stores follow `--kv_ro` (crunch by default).
import { defaultConsole, foreign, genericKvRo, register } from "effect-uk/config"
import * as Unikernel from "./unikernel.ts"

export default register({
  name: "kv_ro",
  main: foreign(Unikernel, "Main"),
  devices: [
    defaultConsole,
    genericKvRo("t", { name: "disk1" }),
    genericKvRo("t", { name: "disk2", service: Unikernel.Disk2 }),
  ],
  keys: [Unikernel.rounds],
})
