/**
 * Test helpers: hand-made ARP and ICMP echo replies, so the kernel on the
 * other side of a TAP or packet socket sees a live host.
 */

/** The Internet checksum of `bytes`. */
const checksum = (bytes: Uint8Array): number => {
  let sum = 0
  for (let i = 0; i < bytes.length; i += 2) sum += (bytes[i]! << 8) | (bytes[i + 1] ?? 0)
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16)
  return ~sum & 0xffff
}

const sameBytes = (a: Uint8Array, b: ReadonlyArray<number>): boolean => b.every((x, i) => a[i] === x)

/**
 * A tiny host at `ourIp`: the reply to an ARP request for it or an ICMP echo
 * request to it (else undefined), sent from `mac`.
 */
export const answerFor = (ourIp: ReadonlyArray<number>) => (frame: Uint8Array, mac: Uint8Array): Uint8Array | undefined => {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength)
  const type = view.getUint16(12)
  if (type === 0x0806 && view.getUint16(20) === 1 && sameBytes(frame.subarray(38, 42), ourIp)) {
    const reply = frame.slice(0, 42)
    reply.set(frame.subarray(6, 12), 0) // to the asker
    reply.set(mac, 6)
    reply[21] = 2 // ARP reply
    reply.set(mac, 22) // sender: us
    reply.set(ourIp, 28)
    reply.set(frame.subarray(22, 32), 32) // target: the asker's MAC and IP
    return reply
  }
  const ihl = (frame[14]! & 0x0f) * 4
  if (type === 0x0800 && frame[23] === 1 && frame[14 + ihl] === 8 && sameBytes(frame.subarray(30, 34), ourIp)) {
    const reply = frame.slice()
    const replyView = new DataView(reply.buffer)
    reply.set(frame.subarray(6, 12), 0)
    reply.set(mac, 6)
    reply.set(ourIp, 26) // swap addresses
    reply.set(frame.subarray(26, 30), 30)
    replyView.setUint16(24, 0)
    replyView.setUint16(24, checksum(reply.subarray(14, 14 + ihl)))
    reply[14 + ihl] = 0 // echo reply
    replyView.setUint16(16 + ihl, 0)
    replyView.setUint16(16 + ihl, checksum(reply.subarray(14 + ihl, 14 + replyView.getUint16(16))))
    return reply
  }
  return undefined
}

