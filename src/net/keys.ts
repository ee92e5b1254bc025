/**
 * The network's configuration keys, as MirageOS names them: `--net` chooses
 * the stack at configure time; `--ipv4`, `--ipv4-gateway`, `--interface` and
 * `--pcap` configure the direct stack (at configure time as defaults, or when
 * running).
 */
import * as Key from "../core/Key.ts"
import * as KeyType from "../core/KeyType.ts"
import { ipv4, ipv4Cidr, optional } from "../core/NetKeyTypes.ts"

/** `--net socket|direct` (MirageOS's default on unix is socket). */
export const netKey = Key.create("net", KeyType.choice("NET", ["socket", "direct"]), {
  doc: "Use the host's sockets (socket) or our own TCP/IP stack over a network interface (direct).",
  default: "socket",
  stage: "configure",
})

/** `--ipv4=10.0.0.2/24`: the direct stack's address and subnet. */
export const ipv4Key = Key.create("ipv4", ipv4Cidr, {
  doc: "The IPv4 address of the unikernel and the prefix length of its subnet.",
  default: "10.0.0.2/24",
})

/** `--ipv4-gateway=10.0.0.1`: where off-link packets go; none unless given. */
export const gatewayKey = Key.create("ipv4-gateway", optional(ipv4), {
  doc: "The IPv4 gateway for destinations outside the subnet.",
  default: undefined,
})

/** `--interface=tap0`: the network interface of the direct stack; created if missing. */
export const interfaceKey = Key.create("interface", KeyType.string, {
  doc: "The network interface (TAP device) the direct stack attaches to; it is created if missing.",
  default: "tap0",
})

/** `--pcap=FILE`: record every frame of the interface to a pcap file. */
export const pcapKey = Key.create("pcap", optional(KeyType.string), {
  doc: "Write every frame sent and received to this pcap file (tshark -r reads it).",
  default: undefined,
  stage: "runtime",
})
