import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import * as Wire from "../../../src/net/wire/index.ts"
import * as Tcp from "../../../src/net/wire/tcp.ts"

const WIRE_DIR = join(import.meta.dirname, "../../../src/net/wire")

describe("src/net/wire", () => {
  it("exports every protocol module from its index", () => {
    expect(Object.keys(Wire).sort()).toEqual(
      ["Addr", "Arp", "Checksum", "Ethernet", "Icmpv4", "Ipv4", "Seq", "Tcp", "Udp", "isRejected"].sort(),
    )
    expect(Wire.Tcp.parse).toBe(Tcp.parse)
    expect(Wire.isRejected(Wire.Ipv4.parse(new Uint8Array(3)))).toBe(true)
  })

  it("is pure: no imports but its own modules (no Effect, no Node)", () => {
    for (const file of readdirSync(WIRE_DIR).filter((f) => f.endsWith(".ts"))) {
      const source = readFileSync(join(WIRE_DIR, file), "utf8")
      for (const [, specifier] of source.matchAll(/\bfrom\s+"([^"]+)"/g)) {
        expect(specifier, `${file} imports ${specifier}`).toMatch(/^\.\/[a-z0-9]+\.ts$/)
      }
      expect(source, file).not.toMatch(/\bimport\s*\(/)
      expect(source, file).not.toMatch(/\brequire\s*\(/)
    }
  })
})
