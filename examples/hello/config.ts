// tutorial/hello: `register "hello" [main $ default_time]`.
import { defaultTime, foreign, register } from "effect-uk/config"
import * as Unikernel from "./unikernel.ts"

export default register({
  name: "hello",
  main: foreign(Unikernel, "Hello"),
  devices: [defaultTime],
  keys: [Unikernel.interval],
})
