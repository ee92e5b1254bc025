/**
 * Tutorial step 4 on our own stack (`--net direct`), set up as the tutorial
 * does but inside a network namespace the test creates and removes:
 * `ip tuntap add dev tap0 mode tap; ip addr add 10.0.0.1/24 dev tap0;
 * ip link set tap0 up`, then the unikernel attaches to tap0 (its
 * `--interface` default) and answers ping, UDP and TCP from the kernel.
 */
import { describe, expect, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"
import { randomBytes } from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { kernelSkipReason, toolSkipReason } from "../net/netif/netns.ts"
import { cli, logLines, root, runWhile } from "./cli.ts"

const skip = kernelSkipReason() ?? toolSkipReason("nc", "netcat-openbsd", ["-h"])
if (skip) console.log(`skipping the --net direct tutorial tests: ${skip}`)

/** Run `command` inside the namespace. */
const inNs = (ns: string, command: string, args: Array<string>, input?: string) =>
  spawnSync("ip", ["netns", "exec", ns, command, ...args], { encoding: "utf8", timeout: 20_000, ...(input ? { input } : {}) })

/** A namespace with tap0 at 10.0.0.1/24, as the tutorial sets it up; removed afterwards. */
const withTutorialNamespace = async (body: (ns: string) => Promise<void>) => {
  const ns = `euk-tut-${randomBytes(4).toString("hex")}`
  spawnSync("ip", ["netns", "add", ns])
  try {
    inNs(ns, "ip", ["link", "set", "lo", "up"])
    inNs(ns, "ip", ["tuntap", "add", "dev", "tap0", "mode", "tap"])
    inNs(ns, "ip", ["addr", "add", "10.0.0.1/24", "dev", "tap0"])
    inNs(ns, "ip", ["link", "set", "tap0", "up"])
    await body(ns)
  } finally {
    spawnSync("ip", ["netns", "del", ns])
  }
}

/** Start a built unikernel inside `ns`, wait for its first log line, run `talk`, stop it; returns its log lines. */
const runInNs = async (ns: string, executable: string, args: Array<string>, talk: () => void) =>
  logLines((await runWhile("ip", ["netns", "exec", ns, executable, ...args], talk)).log)

describe.skipIf(skip !== undefined)("step 4 on the direct stack, in a namespace", () => {
  it("stackv4 --net direct answers ping on tap0, logs UDP and TCP from nc, and writes a pcap tshark reads", async () => {
    expect(cli("configure", "examples/stackv4", "--net", "direct").code).toBe(0)
    expect(cli("build", "examples/stackv4").code).toBe(0)
    const pcap = path.join(os.tmpdir(), `euk-stackv4-${process.pid}.pcap`)
    await withTutorialNamespace(async (ns) => {
      let ping = ""
      const lines = await runInNs(ns, path.join(root, "examples/stackv4/stackv4"), [`--pcap=${pcap}`], () => {
        ping = inNs(ns, "ping", ["-c", "3", "-i", "0.2", "-W", "2", "10.0.0.2"]).stdout
        inNs(ns, "nc", ["-nu", "-w1", "10.0.0.2", "53"], "hello udp world")
        inNs(ns, "nc", ["-n", "-w1", "10.0.0.2", "8080"], "hello tcp world")
      })
      expect(ping).toContain("3 packets transmitted, 3 received")
      expect(lines).toContain("INF [application] IP address: 10.0.0.2")
      expect(lines.some((l) => /^INF \[application\] UDP 10\.0\.0\.1\.\d+ > 10\.0\.0\.2\.53: "hello udp world"$/.test(l))).toBe(true)
      expect(lines).toContain(`INF [application] read: 15 "hello tcp world"`)
    })
    const tshark = spawnSync("tshark", ["-r", pcap], { encoding: "utf8" })
    if (tshark.error === undefined) {
      expect(tshark.status).toBe(0)
      expect(tshark.stdout).toMatch(/ICMP.*Echo \(ping\) request/)
      expect(tshark.stdout).toMatch(/ARP/)
    }
    fs.rmSync(pcap, { force: true })
    expect(cli("clean", "examples/stackv4").code).toBe(0)
  })
})

describe.skipIf(skip !== undefined)("the network example on the direct stack", () => {
  it("takes its address from --ipv4 at configure time and logs a TCP connection from the kernel", async () => {
    expect(cli("configure", "examples/network", "--net=direct", "--ipv4=10.0.0.9/24").code).toBe(0)
    expect(cli("build", "examples/network").code).toBe(0)
    await withTutorialNamespace(async (ns) => {
      let ping = ""
      const lines = await runInNs(ns, path.join(root, "examples/network/network"), [], () => {
        ping = inNs(ns, "ping", ["-c", "1", "-W", "2", "10.0.0.9"]).stdout
        inNs(ns, "nc", ["-n", "-w1", "10.0.0.9", "8080"], "hello tcp world")
      })
      expect(ping).toContain("1 packets transmitted, 1 received")
      expect(lines.some((l) => /^INF \[application\] new tcp connection from IP 10\.0\.0\.1 on port \d+$/.test(l))).toBe(true)
      expect(lines).toContain(`INF [application] read: 15 "hello tcp world"`)
    })
    expect(cli("clean", "examples/network").code).toBe(0)
  })
})

describe.skipIf((skip ?? toolSkipReason("curl", "curl")) !== undefined)("static-website on the direct stack", () => {
  it("curl fetches the site from a FAT image over our TCP", async () => {
    expect(cli("configure", "examples/static-website", "--net=direct", "--kv_ro=fat").code).toBe(0)
    expect(cli("build", "examples/static-website").code).toBe(0)
    const htdocs = path.join(root, "examples/static-website/htdocs")
    await withTutorialNamespace(async (ns) => {
      const fetched: Array<string> = []
      const lines = await runInNs(ns, path.join(root, "examples/static-website/www"), [], () => {
        for (const url of ["/", "/about/", "/style.css"]) {
          fetched.push(inNs(ns, "curl", ["-sS", "--max-time", "10", `http://10.0.0.2${url}`]).stdout)
        }
        fetched.push(inNs(ns, "curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "10", "http://10.0.0.2/missing"]).stdout)
      })
      expect(fetched).toEqual([
        fs.readFileSync(path.join(htdocs, "index.html"), "utf8"),
        fs.readFileSync(path.join(htdocs, "about/index.html"), "utf8"),
        fs.readFileSync(path.join(htdocs, "style.css"), "utf8"),
        "404",
      ])
      expect(lines).toContain("INF [application] GET / 200")
    })
    expect(cli("clean", "examples/static-website").code).toBe(0)
  })
})
