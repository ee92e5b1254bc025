// tutorial/noop-functor: `foreign "Unikernel.Main" job`.
import { foreign, register } from "effect-uk/config"
import * as Unikernel from "./unikernel.ts"

export default register({
  name: "noop",
  main: foreign(Unikernel, "Main"),
  devices: [],
})
