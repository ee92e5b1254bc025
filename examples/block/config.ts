// device-usage/block: a block device on disk.img, made at build (100000
// sectors, as the tutorial's `dd ... count=100000`) and deleted at clean.
import { blockOfFile, defaultTime, foreign, imageStep, register } from "effect-uk/config"
import * as Unikernel from "./unikernel.ts"

export default register({
  name: "block_test",
  main: foreign(Unikernel, "Main"),
  devices: [defaultTime, blockOfFile("disk.img")],
  steps: [imageStep("disk.img", 100_000 * 512)],
})
