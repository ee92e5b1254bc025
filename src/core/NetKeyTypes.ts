/**
 * Key types for network configuration: an IPv4 address (`10.0.0.1`), an IPv4
 * address with its prefix (`10.0.0.2/24`), and optional values. The values
 * stay in their text form (what the Stack API takes); parsing only checks
 * them, with the pure wire-format parsers.
 */
import { formatCidr, formatIpv4, parseCidr, parseIpv4 } from "../net/wire/addr.ts"
import { isRejected } from "../net/wire/result.ts"
import type { KeyType } from "./KeyType.ts"

/** A dotted IPv4 address. */
export const ipv4: KeyType<string> = {
  metavar: "IPV4",
  expected: "an IPv4 address such as 10.0.0.1",
  isFlag: false,
  parse: (text) => {
    const address = parseIpv4(text)
    return typeof address !== "number" ? { ok: false, expected: "an IPv4 address such as 10.0.0.1" } : { ok: true, value: formatIpv4(address) }
  },
  format: (address) => address,
  code: "ipv4",
}

/** An IPv4 address with its prefix length. */
export const ipv4Cidr: KeyType<string> = {
  metavar: "PREFIX",
  expected: "an IPv4 address with its prefix length such as 10.0.0.2/24",
  isFlag: false,
  parse: (text) => {
    const cidr = parseCidr(text)
    return isRejected(cidr)
      ? { ok: false, expected: "an IPv4 address with its prefix length such as 10.0.0.2/24" }
      : { ok: true, value: formatCidr(cidr) }
  },
  format: (cidr) => cidr,
  code: "ipv4Cidr",
}

/** A value that may be absent: the empty text (`--ipv4-gateway=`) means none. */
export const optional = <A>(type: KeyType<A>): KeyType<A | undefined> => ({
  metavar: type.metavar,
  expected: `${type.expected}, or nothing`,
  isFlag: type.isFlag,
  ...(type.choices ? { choices: type.choices } : {}),
  parse: (text) => (text === "" ? { ok: true, value: undefined } : type.parse(text)),
  format: (value) => (value === undefined ? "" : type.format(value)),
  code: `optional(KeyTypes.${type.code})`,
})
