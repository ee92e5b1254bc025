// static-website: an HTTP server over the Stack (socket or direct) serving
// the files of a read-only key-value store (crunch, direct, fat or archive).
import { Effect } from "effect"
import * as http from "node:http"
import { Key, KeyType, KvRo, Stack } from "effect-uk"
import { toDuplex } from "effect-uk/net"

/** The HTTP port. */
export const port = Key.create("port", KeyType.port, { doc: "The HTTP port to listen on.", default: 80 })

/** Content types by file extension. */
const contentTypes: Record<string, string> = {
  html: "text/html; charset=utf-8",
  css: "text/css; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  txt: "text/plain; charset=utf-8",
  json: "application/json",
  png: "image/png",
  svg: "image/svg+xml",
}

/** The store key of a request path: `/` and directories serve their `index.html`. */
const keyOf = (kv: KvRo["Service"], url: string) =>
  Effect.gen(function* () {
    const path = decodeURIComponent(new URL(url, "http://unikernel").pathname).replace(/^\/+|\/+$/g, "")
    if (path === "") return "index.html"
    return (yield* kv.exists(path)) === "dictionary" ? `${path}/index.html` : path
  })

/** The response to one request: the file, or 404 for anything the store refuses. */
const respond = (kv: KvRo["Service"], method: string, url: string) =>
  Effect.gen(function* () {
    if (method !== "GET" && method !== "HEAD") return { status: 405, type: "text/plain", body: new TextEncoder().encode("only GET and HEAD\n") }
    const key = yield* keyOf(kv, url)
    const body = yield* kv.get(key)
    return { status: 200, type: contentTypes[key.split(".").pop() ?? ""] ?? "application/octet-stream", body }
  }).pipe(Effect.catch(() => Effect.succeed({ status: 404, type: "text/plain", body: new TextEncoder().encode("not found\n") })))

/** Serve HTTP on `--port` until stopped. */
export const Main = {
  start: Effect.gen(function* () {
    const kv = yield* KvRo
    const stack = yield* Stack
    const context = yield* Effect.context<never>()
    const server = http.createServer((request, response) => {
      const method = request.method ?? "GET"
      const url = request.url ?? "/"
      Effect.runPromiseWith(context)(
        Effect.tap(respond(kv, method, url), ({ status }) => Effect.log(`${method} ${url} ${status}`)),
      ).then(({ status, type, body }) => {
        response.writeHead(status, { "content-type": type, "content-length": body.length })
        response.end(method === "HEAD" ? undefined : body)
      })
    })
    const listening = yield* port
    yield* stack.tcp.listen(listening, (flow) =>
      Effect.callback<void>((resume) => {
        const connection = toDuplex(flow)
        connection.on("close", () => resume(Effect.void))
        server.emit("connection", connection)
      }))
    yield* Effect.log(`serving on ${stack.addresses.join(", ")} port ${listening}`)
    return yield* Effect.never
  }).pipe(Effect.scoped),
}
