import { describe, expect, it } from "@effect/vitest"
import { fc, test } from "@fast-check/vitest"
import * as Args from "../../src/core/Args.ts"
import * as Key from "../../src/core/Key.ts"
import * as KeyType from "../../src/core/KeyType.ts"
import { logsKey } from "../../src/core/Log.ts"

const hello = Key.create("hello", KeyType.string, { doc: "How to say hello.", default: "Hello World!" })
const port = Key.create("port", KeyType.port, { doc: "Port.", default: 8080, stage: "runtime" })
const dhcp = Key.create("dhcp", KeyType.bool, { doc: "Use DHCP.", default: false })
const kvRo = Key.create("kv_ro", KeyType.choice("KV_RO", ["crunch", "direct"]), {
  doc: "KV store.",
  default: "crunch",
  stage: "configure",
})
const keys = [hello, port, dhcp, logsKey]

const values = (argv: Array<string>) => {
  const result = Args.parse(argv, { keys, refused: [kvRo], refusedBelongTo: "configure" })
  if (Args.isError(result)) throw new Error(result.message)
  return Object.fromEntries(result.values)
}

const error = (argv: Array<string>) => {
  const result = Args.parse(argv, { keys, refused: [kvRo], refusedBelongTo: "configure" })
  if (!Args.isError(result)) throw new Error("expected an error")
  return result
}

describe("Args.parse", () => {
  it("accepts --name=value and --name value", () => {
    expect(values(["--hello=Hola!", "--port", "53"])).toEqual({ hello: "Hola!", port: 53 })
    expect(values(["--hello", "--not-a-flag-value"]).hello).toBe("--not-a-flag-value")
  })

  it("reads booleans as --flag and --flag=false without taking the next argument", () => {
    expect(values(["--dhcp"])).toEqual({ dhcp: true })
    expect(values(["--dhcp=false"])).toEqual({ dhcp: false })
    expect(error(["--dhcp", "stray"])._tag).toBe("UnknownArgument")
  })

  it("reads -l with a separate or attached value, and a later value wins", () => {
    expect(values(["-l", "net:debug,*:warning"]).logs).toEqual({
      fallback: "Warn",
      sources: new Map([["net", "Debug"]]),
    })
    expect(values(["-l*:debug"]).logs).toEqual({ fallback: "Debug", sources: new Map() })
    expect(values(["--hello=a", "--hello=b"]).hello).toBe("b")
  })

  it("names the key, the value and the expected form of a bad value", () => {
    const e = error(["--port=99999"])
    expect(e._tag).toBe("BadValue")
    expect(e.message).toBe(`invalid value "99999" for --port: expected a port number from 0 to 65535`)
    expect(error(["-l", "net:loud"]).message).toContain("for --logs: expected a list of [SRC:]LEVEL")
  })

  it("refuses unknown arguments with a suggestion, and missing values", () => {
    const e = error(["--helo=x"])
    expect(e.message).toBe("unknown argument --helo (did you mean --hello?)")
    expect(error(["positional"])._tag).toBe("UnknownArgument")
    expect(error(["--port"]).message).toBe("--port needs a value: write --port=PORT")
  })

  it("says a configure-only key is fixed at configure time", () => {
    const e = error(["--kv_ro=direct"])
    expect(e._tag).toBe("WrongStage")
    expect(e.message).toContain("--kv_ro is fixed at configure time")
  })

  it("reports --help", () => {
    expect(error(["--hello=x", "--help"])._tag).toBe("HelpRequested")
  })

  it("keeps the rest when asked, up to and after --", () => {
    const result = Args.parse(["--hello=x", "dir", "--other", "--", "--hello=y"], { keys, allowRest: true })
    expect(Args.isError(result)).toBe(false)
    if (!Args.isError(result)) {
      expect(result.values.get("hello")).toBe("x")
      expect(result.rest).toEqual(["dir", "--other", "--", "--hello=y"])
    }
  })
})

describe("key types", () => {
  test.prop([fc.string()])("string values round-trip through format and parse", (s) => {
    expect(KeyType.string.parse(KeyType.string.format(s))).toEqual({ ok: true, value: s })
  })
  test.prop([fc.integer({ min: -(2 ** 40), max: 2 ** 40 })])("ints round-trip", (n) => {
    expect(KeyType.int.parse(KeyType.int.format(n))).toEqual({ ok: true, value: n })
  })
  test.prop([fc.boolean()])("bools round-trip", (b) => {
    expect(KeyType.bool.parse(KeyType.bool.format(b))).toEqual({ ok: true, value: b })
  })
  it("rejects malformed numbers and choices", () => {
    expect(KeyType.int.parse("1.5").ok).toBe(false)
    expect(KeyType.int.parse("").ok).toBe(false)
    expect(KeyType.port.parse("65536").ok).toBe(false)
    expect(KeyType.choice("X", ["a", "b"]).parse("c")).toEqual({ ok: false, expected: "one of a, b" })
  })
  it("refuses invalid key names", () => {
    expect(() => Key.create("Bad Name", KeyType.string, { doc: "", default: "" })).toThrow(/not valid/)
  })
})

describe("network key types", () => {
  it("read IPv4 addresses, prefixes and optional values", async () => {
    const { ipv4, ipv4Cidr, optional } = await import("../../src/core/NetKeyTypes.ts")
    expect(ipv4Cidr.parse("10.0.0.2/24")).toEqual({ ok: true, value: "10.0.0.2/24" })
    expect(ipv4Cidr.parse("10.0.0.2").ok).toBe(false)
    expect(ipv4Cidr.parse("10.0.0.2/33").ok).toBe(false)
    expect(ipv4.parse("192.168.1.1")).toEqual({ ok: true, value: "192.168.1.1" })
    expect(ipv4.parse("192.168.1.256").ok).toBe(false)
    expect(optional(ipv4).parse("")).toEqual({ ok: true, value: undefined })
    expect(optional(ipv4).format(undefined)).toBe("")
    expect(optional(ipv4).code).toBe("optional(KeyTypes.ipv4)")
  })
})
