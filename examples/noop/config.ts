// tutorial/noop: no devices; the program is the export `start` of unikernel.ts.
import { foreign, register } from "effect-uk/config"
import * as Unikernel from "./unikernel.ts"

export default register({
  name: "noop",
  main: foreign(Unikernel, "start"),
  devices: [],
})
