// stackv4 (2015 tutorial): `main $ default_console $ stack`, with the stack
// chosen by `effect-uk configure --net socket|direct`.
import { foreign, genericStackv4, register } from "effect-uk/config"
import * as Unikernel from "./unikernel.ts"

export default register({
  name: "stackv4",
  main: foreign(Unikernel, "Main"),
  devices: [genericStackv4()],
  keys: [Unikernel.udpPort, Unikernel.tcpPort],
})
