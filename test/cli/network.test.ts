/**
 * Tutorial step 4 on the socket stack (`--net socket`): the stackv4 and
 * network examples, built and run, talked to with nc over loopback.
 */
import { describe, expect, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"
import * as path from "node:path"
import { freePort } from "../freePort.ts"
import { toolSkipReason } from "../net/netif/netns.ts"
import { cli, logLines, root, runWhile } from "./cli.ts"

/** `echo -n TEXT | nc ARGS`. */
const nc = (text: string, ...args: Array<string>) => {
  const result = spawnSync("nc", args, { input: text, timeout: 5000 })
  if (result.error) throw result.error
}

const hasNc = toolSkipReason("nc", "netcat-openbsd", ["-h"]) === undefined

describe("step 4 on the socket stack", () => {
  it.skipIf(!hasNc)("stackv4 logs a UDP datagram and TCP data sent with nc to 127.0.0.1", async () => {
    const [udp, tcp] = [await freePort(), await freePort()]
    expect(cli("configure", "examples/stackv4", "--net", "socket").code).toBe(0)
    expect(cli("build", "examples/stackv4").code).toBe(0)
    const { log, code } = await runWhile(
      path.join(root, "examples/stackv4/stackv4"),
      [`--udp-port=${udp}`, `--tcp-port=${tcp}`],
      () => {
        nc("hello udp world", "-n4u", "-w1", "127.0.0.1", String(udp))
        nc("hello tcp world", "-n4", "-w1", "127.0.0.1", String(tcp))
      },
    )
    expect(code).toBe(143)
    const lines = logLines(log)
    expect(lines).toContain("INF [application] IP address: 0.0.0.0")
    expect(lines.some((l) => new RegExp(`^INF \\[application\\] UDP 127\\.0\\.0\\.1\\.\\d+ > 0\\.0\\.0\\.0\\.${udp}: "hello udp world"$`).test(l))).toBe(true)
    expect(lines.some((l) => new RegExp(`^INF \\[application\\] TCP 127\\.0\\.0\\.1\\.\\d+ > _\\.${tcp}$`).test(l))).toBe(true)
    expect(lines).toContain(`INF [application] read: 15 "hello tcp world"`)
    expect(cli("clean", "examples/stackv4").code).toBe(0)
  })

  it.skipIf(!hasNc)("network logs each connection and what it reads", async () => {
    const port = await freePort()
    expect(cli("configure", "examples/network", `--port=${port}`).code).toBe(0)
    expect(cli("build", "examples/network").code).toBe(0)
    const { log } = await runWhile(path.join(root, "examples/network/network"), [], () =>
      nc("hello tcp world", "-n4", "-w1", "127.0.0.1", String(port)))
    const lines = logLines(log)
    expect(lines.some((l) => /^INF \[application\] new tcp connection from IP 127\.0\.0\.1 on port \d+$/.test(l))).toBe(true)
    expect(lines).toContain(`INF [application] read: 15 "hello tcp world"`)
    expect(lines).toContain("INF [application] Closing connection!")
    expect(cli("clean", "examples/network").code).toBe(0)
  })

  it("--net takes socket or direct at configure time only", () => {
    const bad = cli("configure", "examples/network", "--net=carrier-pigeon")
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain(`invalid value "carrier-pigeon" for --net: expected one of socket, direct`)
    expect(cli("help", "configure", "examples/network").stdout).toContain("--net=NET (absent=socket)")
  })
})

describe.skipIf(toolSkipReason("curl", "curl") !== undefined)("static-website on the socket stack", () => {
  it("curl fetches every page, with the crunch store compiled in", async () => {
    const port = await freePort()
    expect(cli("configure", "examples/static-website", "--net=socket", `--port=${port}`).code).toBe(0)
    expect(cli("build", "examples/static-website").code).toBe(0)
    const bodies: Array<string> = []
    const { log } = await runWhile(path.join(root, "examples/static-website/www"), [], () => {
      for (const url of ["/", "/about/"]) {
        bodies.push(spawnSync("curl", ["-sS", "--max-time", "5", `http://127.0.0.1:${port}${url}`], { encoding: "utf8" }).stdout)
      }
    })
    expect(bodies[0]).toContain("<h1>Hello from a unikernel</h1>")
    expect(bodies[1]).toContain("effect-uk: MirageOS rebuilt in TypeScript on Effect 4.")
    expect(logLines(log)).toContain("INF [application] GET /about/ 200")
    expect(cli("clean", "examples/static-website").code).toBe(0)
  })
})
