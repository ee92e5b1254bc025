/**
 * The MAC address of a VM's NIC: derived from a seed (the unikernel's name
 * and its TAP device or NIC position), so a guest keeps its address across
 * boots and hosts' ARP caches stay right; locally administered and unicast.
 */
import { createHash } from "node:crypto"

/** The MAC for `seed`, as `02:xx:xx:xx:xx:xx` text (first byte: locally administered, unicast). */
export const guestMac = (seed: string): string => {
  const bytes = [...createHash("sha256").update(seed).digest().subarray(0, 6)]
  bytes[0] = (bytes[0]! & 0xfc) | 0x02
  return bytes.map((byte) => byte.toString(16).padStart(2, "0")).join(":")
}
