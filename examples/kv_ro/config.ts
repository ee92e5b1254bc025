// device-usage/kv_ro: `generic_kv_ro "t"`; choose the store with
// `effect-uk configure --kv_ro=crunch|direct|fat|archive` (crunch by default).
import { foreign, genericKvRo, register } from "effect-uk/config"
import * as Unikernel from "./unikernel.ts"

export default register({
  name: "kv_ro",
  main: foreign(Unikernel, "Main"),
  devices: [genericKvRo("t")],
})
