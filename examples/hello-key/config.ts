// tutorial/hello-key: a key given at configure becomes the default; it can
// still be overridden when running (`./hello --hello="Hi!"`).
import { defaultTime, foreign, register } from "effect-uk/config"
import * as Unikernel from "./unikernel.ts"

export default register({
  name: "hello",
  main: foreign(Unikernel, "Hello"),
  devices: [defaultTime],
  keys: [Unikernel.hello, Unikernel.interval],
})
