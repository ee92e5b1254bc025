/**
 * Our TCP against the kernel's `nc` over a TAP, in a namespace the test
 * creates: the kernel's `nc -l` receives what our `tcp.connect` writes (its
 * SHA-256 checked), and the kernel's `nc` connects to our `tcp.listen`, which
 * logs what arrives and echoes it back. Skipped, with the reason printed,
 * without root, /dev/net/tun, the addon, python3, nc or sha256sum.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { createHash, randomBytes } from "node:crypto"
import { directOnTap, drain, KERNEL, listening, spawnIn, tcpKernelSkipReason, US } from "./kernel.ts"

const reason = tcpKernelSkipReason()
if (reason !== undefined) console.log(`skipping TCP tests against the kernel's nc: ${reason}`)

describe.skipIf(reason !== undefined)("TCP against the kernel's nc (root, network namespace)", () => {
  it.live("kernel nc -l receives what our connect writes, intact", () =>
    Effect.gen(function* () {
      const { ns, stack } = yield* directOnTap()
      const data = randomBytes(3 * 1024 * 1024 + 17)
      const nc = yield* spawnIn(ns, "sh", ["-c", `nc -l ${KERNEL} 5010 | sha256sum`])
      yield* listening(ns, 5010)
      const flow = yield* stack.tcp.connect({ address: KERNEL, port: 5010 })
      for (let at = 0; at < data.length; at += 100_000) yield* flow.write(data.subarray(at, at + 100_000))
      yield* flow.shutdown
      const out = yield* nc.exited.pipe(Effect.timeout("20 seconds"))
      expect(out.split(" ")[0]).toBe(createHash("sha256").update(data).digest("hex"))
    }).pipe(Effect.scoped))

  it.live("kernel nc connects to our listener, which logs what arrives and echoes it", () =>
    Effect.gen(function* () {
      const { ns, stack } = yield* directOnTap()
      const logged: Array<string> = []
      yield* stack.tcp.listen(5011, (flow) =>
        Effect.gen(function* () {
          const chunks: Array<Uint8Array> = []
          yield* drain(flow, (chunk) => chunks.push(chunk.slice()))
          const text = Buffer.concat(chunks).toString()
          logged.push(`${flow.remote.address} ${text}`)
          yield* flow.write(Buffer.from(text))
        }).pipe(Effect.ignore))
      const nc = yield* spawnIn(ns, "sh", ["-c", `printf 'hello tcp world' | nc -N -w 5 ${US} 5011`])
      const out = yield* nc.exited.pipe(Effect.timeout("20 seconds"))
      expect(out).toBe("hello tcp world")
      expect(logged).toEqual([`${KERNEL} hello tcp world`])
    }).pipe(Effect.scoped))
})
