// The emulator's HTTP shell: the node:http server, request recording, CORS, fault injection, dispatch
// to the server API, the client API and the pre-built page, and a close() that leaves nothing behind.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { errorReply, readBody, send, sendJson, setCors, type Reply } from './http.js'
import type { EmulatorFault, RecordedRequest } from './types.js'
import type { ServerApi } from './server-api.js'
import type { ClientApi, PageReply } from './client-api.js'

export interface ShellHandlers {
  serverApi: ServerApi
  clientApi: ClientApi
  prebuiltPage: (rec: RecordedRequest, query: string) => PageReply
}

export interface Shell {
  url: string
  requests: RecordedRequest[]
  setFault: (fault: EmulatorFault | null, opts?: { path?: RegExp, times?: number }) => void
  close: () => Promise<void>
}

export async function startShell (port: number, handlers: ShellHandlers): Promise<Shell> {
  const requests: RecordedRequest[] = []
  const sockets = new Set<Socket>()
  const timers = new Set<NodeJS.Timeout>()
  let fault: { fault: EmulatorFault, path: RegExp | undefined, remaining: number } | undefined

  function takeFault (path: string): EmulatorFault | undefined {
    if (fault === undefined || (fault.path !== undefined && path.search(fault.path) === -1)) return undefined
    const current = fault.fault
    fault.remaining -= 1
    if (fault.remaining <= 0) fault = undefined
    return current
  }

  function delay (ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer)
        resolve()
      }, ms)
      timer.unref()
      timers.add(timer)
    })
  }

  // Answers the fault itself (true), or lets the request through, possibly late or relabelled.
  async function applyFault (res: ServerResponse, injected: EmulatorFault | undefined): Promise<{ done: boolean, contentType?: string }> {
    switch (injected?.kind) {
      case 'latency':
        await delay(injected.ms)
        return { done: false }
      case 'hang':
        return { done: true } // the socket stays open until the client gives up or close() destroys it
      case 'status':
        sendJson(res, injected.body === undefined
          ? errorReply(injected.status, 'emulated_fault', `Emulated ${injected.status} response`)
          : { status: injected.status, body: injected.body })
        return { done: true }
      case 'garbage':
        send(res, 200, 'text/html', '<html><body><h1>502 Bad Gateway</h1></body></html>')
        return { done: true }
      case 'wrongContentType':
        return { done: false, contentType: 'text/plain' }
      case 'reset':
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '4096' })
        res.write('{"partial":', () => res.destroy())
        return { done: true }
      case 'huge':
        send(res, 200, 'application/json', `{"data":"${'x'.repeat(Math.max(0, injected.bytes - 11))}"}`)
        return { done: true }
      default:
        return { done: false }
    }
  }

  async function handle (req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = String(req.url)
    const queryAt = url.indexOf('?')
    const path = queryAt === -1 ? url : url.slice(0, queryAt)
    const query = queryAt === -1 ? '' : url.slice(queryAt + 1)
    const method = String(req.method)
    const parsed = await readBody(req)
    const rec: RecordedRequest = { method, url, path, body: parsed.value, authorized: false }
    requests.push(rec)

    const segments = path.split('/').slice(1)
    const browserFacing = path === '/prebuilt' || path.startsWith('/v1/client/')
    if (browserFacing) setCors(req, res)
    if (browserFacing && method === 'OPTIONS') {
      res.writeHead(204)
      res.end()
      return
    }
    if (parsed.malformed) return sendJson(res, errorReply(400, 'invalid_request', 'The request body is not valid JSON'))
    if (path === '/prebuilt' && method === 'GET') {
      const page = handlers.prebuiltPage(rec, query)
      if (page.csp !== undefined) res.setHeader('content-security-policy', page.csp)
      return send(res, page.status, 'text/html; charset=utf-8', page.html)
    }
    if (path.startsWith('/v1/client/')) return sendJson(res, await handlers.clientApi(req, rec, path.slice('/v1/client/'.length), parsed.value))
    if (segments[0] !== 'v1') return sendJson(res, errorReply(404, 'not_found', 'Route not found'))
    const outcome = await applyFault(res, takeFault(path))
    if (outcome.done) return
    const reply: Reply = handlers.serverApi(req, rec, { method, segments: segments.slice(1), query, body: parsed.value })
    sendJson(res, reply, outcome.contentType)
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      sendJson(res, errorReply(500, 'internal_error', `Emulator error: ${String(err)}`))
    })
  })
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => resolve())
  })

  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    setFault: (next, opts = {}) => {
      fault = next === null ? undefined : { fault: next, path: opts.path, remaining: opts.times ?? Infinity }
    },
    close: async () => {
      for (const timer of timers) clearTimeout(timer)
      timers.clear()
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      for (const socket of sockets) socket.destroy()
      await closed
    }
  }
}
