// console (2015 tutorial): `foreign "Unikernel.Main" (console @-> job)`.
import { defaultConsole, defaultTime, foreign, register } from "effect-uk/config"
import * as Unikernel from "./unikernel.ts"

export default register({
  name: "console",
  main: foreign(Unikernel, "Main"),
  devices: [defaultConsole, defaultTime],
  keys: [Unikernel.interval],
})
