// device-usage/network (2017 tutorial): `main $ generic_stackv4 default_network`
// with the `--port` key; `--net socket` or `--net direct`.
import { foreign, genericStackv4, register } from "effect-uk/config"
import * as Unikernel from "./unikernel.ts"

export default register({
  name: "network",
  main: foreign(Unikernel, "Main"),
  devices: [genericStackv4()],
  keys: [Unikernel.port],
})
