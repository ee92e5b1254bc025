// static-website: node:http over our TCP serving htdocs/ from a KV_RO store;
// `--net socket|direct` and `--kv_ro=crunch|direct|fat|archive`.
import { foreign, genericKvRo, genericStackv4, register } from "effect-uk/config"
import * as Unikernel from "./unikernel.ts"

export default register({
  name: "www",
  main: foreign(Unikernel, "Main"),
  devices: [genericKvRo("htdocs"), genericStackv4()],
  keys: [Unikernel.port],
})
