/**
 * Opening an interface for raw frames (AF_PACKET) without offload turns its
 * generic receive offload off, so the stack never sees merged TCP segments
 * larger than the MTU; with offload (virtio-net headers) GRO stays as it is
 * (the guest NIC of an hvt VM is such an interface).
 */
import { describe, expect, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"
import { randomBytes } from "node:crypto"
import { join } from "node:path"
import { ethtoolSkipReason, kernelSkipReason, root } from "./netns.ts"

const skip = kernelSkipReason() ?? ethtoolSkipReason()
if (skip) console.log(`skipping the GRO test: ${skip}`)

const run = (...args: Array<string>) => spawnSync(args[0]!, args.slice(1), { encoding: "utf8" })

describe.skipIf(skip !== undefined)("openPacket", () => {
  it("turns GRO off on the interface it binds to, unless it offloads", () => {
    const ns = `euk-t-${randomBytes(4).toString("hex")}`
    run("ip", "netns", "add", ns)
    try {
      run("ip", "-n", ns, "link", "add", "va", "type", "veth", "peer", "name", "vb")
      run("ip", "-n", ns, "link", "set", "va", "up")
      run("ip", "netns", "exec", ns, "ethtool", "-K", "va", "gro", "on")
      const gro = () => /generic-receive-offload: (\w+)/.exec(run("ip", "netns", "exec", ns, "ethtool", "-k", "va").stdout)?.[1]
      expect(gro()).toBe("on")
      const open = (offload: boolean) =>
        run("ip", "netns", "exec", ns, process.execPath, "-e",
          `require(${JSON.stringify(join(root, "build", "tap.node"))}).openPacket("va", ${offload}); console.log("opened")`).stdout
      expect(open(true)).toBe("opened\n")
      expect(gro()).toBe("on") // merged segments then come with virtio-net headers
      expect(open(false)).toBe("opened\n")
      expect(gro()).toBe("off")
    } finally {
      run("ip", "netns", "del", ns)
    }
  })
})
