// Small node:http helpers for the Authsignal emulator: body reading, JSON replies, CORS.
import type { IncomingMessage, ServerResponse } from 'node:http'

export interface Reply {
  status: number
  body: unknown
}

export interface ParsedBody {
  value: unknown // parsed JSON, the raw text when it is not JSON, undefined when empty
  malformed: boolean
}

// Authsignal's error body: the node SDK reads `error` and `errorDescription`, the browser SDK
// `errorCode` and `errorDescription`.
export function errorReply (status: number, code: string, description: string): Reply {
  return { status, body: { error: code, errorCode: code, errorDescription: description } }
}

export async function readBody (req: IncomingMessage): Promise<ParsedBody> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  const text = Buffer.concat(chunks).toString('utf8')
  if (text === '') return { value: undefined, malformed: false }
  try {
    return { value: JSON.parse(text), malformed: false }
  } catch {
    return { value: text, malformed: true }
  }
}

export { isRecord } from '../../guards.js'

export function send (res: ServerResponse, status: number, contentType: string, text: string): void {
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(text)
  })
  res.end(text)
}

export function sendJson (res: ServerResponse, reply: Reply, contentType = 'application/json; charset=utf-8'): void {
  send(res, reply.status, contentType, JSON.stringify(reply.body))
}

// The client API and the pre-built page are called from a browser page on another origin
// (the host's dev server), so they answer CORS; the server API is for backends only.
export function setCors (req: IncomingMessage, res: ServerResponse): void {
  const origin = req.headers.origin
  if (origin !== undefined) {
    res.setHeader('access-control-allow-origin', origin)
    res.setHeader('vary', 'Origin')
  }
  res.setHeader('access-control-allow-methods', 'GET, POST, OPTIONS')
  res.setHeader('access-control-allow-headers', 'authorization, content-type')
  res.setHeader('access-control-max-age', '600')
}

// Drops undefined fields so optional attributes are absent from JSON, as Authsignal sends them.
export function compact<T extends object> (value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T
}
