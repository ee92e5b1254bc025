/**
 * Test helper: one HTTP/1.1 request by `node:http`'s client over a flow of
 * our TCP (the connection is the flow as a `Duplex`), closed after the
 * response.
 */
import { Effect } from "effect"
import type { Scope } from "effect"
import * as http from "node:http"
import { toDuplex } from "../../../src/net/FlowDuplex.ts"
import type { Endpoint, Flow } from "../../../src/net/Stack.ts"

/** What came back: the status, the headers and the whole body. */
export interface HttpReply {
  readonly status: number
  readonly headers: http.IncomingHttpHeaders
  readonly body: Buffer
}

/** `method path` (with `body`, if any) to `server` through a connection from `tcp`. */
export const httpRequest = <E>(
  tcp: { readonly connect: (remote: Endpoint) => Effect.Effect<Flow, E, Scope.Scope> },
  server: Endpoint,
  path: string,
  options: { readonly method?: string; readonly body?: Uint8Array } = {},
): Effect.Effect<HttpReply, E | Error> =>
  Effect.gen(function* () {
    const flow = yield* tcp.connect(server)
    return yield* Effect.tryPromise({
      try: () =>
        new Promise<HttpReply>((resolve, reject) => {
          const request = http.request({
            createConnection: () => toDuplex(flow) as never,
            method: options.method ?? "GET",
            path,
            headers: { connection: "close" },
          }, (response) => {
            const parts: Array<Buffer> = []
            response.on("data", (chunk: Buffer) => parts.push(chunk))
            response.on("end", () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(parts) }))
            response.on("error", reject)
          })
          request.on("error", reject)
          request.end(options.body)
        }),
      catch: (cause) => cause instanceof Error ? cause : new Error(String(cause)),
    })
  }).pipe(Effect.scoped)
