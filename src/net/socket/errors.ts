/**
 * Host socket errors (Node's `error.code`) as the Stack device's typed errors.
 */
import type { Endpoint } from "../Stack.ts"
import { StackDeviceFailed, StackPortUnavailable, StackUnreachable, TcpRefused, TcpReset, TcpTimeout } from "../Stack.ts"

const codeOf = (error: unknown): string | undefined =>
  typeof error === "object" && error !== null && "code" in error ? String((error as { code: unknown }).code) : undefined

/** A failure to bind `port`. */
export const bindError = (protocol: "udp" | "tcp", port: number, error: unknown) => {
  const code = codeOf(error)
  if (code === "EADDRINUSE") return new StackPortUnavailable({ protocol, port, reason: "it is already in use" })
  if (code === "EACCES") return new StackPortUnavailable({ protocol, port, reason: "it is privileged (below 1024) and we are not root" })
  return new StackDeviceFailed({ reason: `binding ${protocol} port ${port}: ${String((error as Error)?.message ?? error)}`, cause: error })
}

/** A failure to reach or talk to `remote`. */
export const connectionError = (remote: Endpoint, error: unknown) => {
  switch (codeOf(error)) {
    case "ECONNREFUSED":
      return new TcpRefused({ remote })
    case "ETIMEDOUT":
      return new TcpTimeout({ remote, during: "connect" })
    case "ECONNRESET":
    case "EPIPE":
      return new TcpReset({ remote })
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return new StackUnreachable({ address: remote.address, reason: "the host has no route to it" })
    default:
      return new StackDeviceFailed({ reason: `${remote.address}:${remote.port}: ${String((error as Error)?.message ?? error)}`, cause: error })
  }
}
