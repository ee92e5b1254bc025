/** Test helper: a TCP port on loopback that nothing listens on, as the kernel picks it. */
import * as net from "node:net"

/** A free loopback port (the kernel's pick for a listener at once closed). */
export const freePort = (): Promise<number> =>
  new Promise<number>((resolve, reject) => {
    const server = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
    server.on("error", reject)
  })
