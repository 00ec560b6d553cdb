// Row 9, in a fresh process: the Lambda handler's cold start. Time to import examples/lambda.ts (Fastify,
// the plugin, the SDK; through tsx, so TypeScript is compiled on the fly: a bundled function loads faster),
// then the first invocation (the app is built, the JWKS fetched, the token verified, Authsignal called),
// then a warm one.
import { serveParent } from './ipc.js'

export interface ColdStartArgs { env: Record<string, string>, token: string }
export interface ColdStartResult { importMs: number, firstMs: number, warmMs: number, firstStatus: number, warmStatus: number }

function event (token: string) {
  return {
    version: '2.0' as const,
    routeKey: '$default',
    rawPath: '/authenticators',
    rawQueryString: '',
    headers: { authorization: `Bearer ${token}`, host: 'abc123defg.execute-api.eu-west-1.amazonaws.com' },
    requestContext: { http: { method: 'GET', path: '/authenticators', protocol: 'HTTP/1.1', sourceIp: '203.0.113.7', userAgent: 'bench' }, stage: '$default' },
    isBase64Encoded: false
  }
}

async function run ({ env, token }: ColdStartArgs): Promise<ColdStartResult> {
  Object.assign(process.env, env)
  const t0 = performance.now()
  const { handler } = await import('../examples/lambda.js')
  const t1 = performance.now()
  const first = await handler(event(token), {})
  const t2 = performance.now()
  const warm = await handler(event(token), {})
  const t3 = performance.now()
  return { importMs: t1 - t0, firstMs: t2 - t1, warmMs: t3 - t2, firstStatus: first.statusCode, warmStatus: warm.statusCode }
}

serveParent({}, { run: (args) => run(args as ColdStartArgs) }, async () => {})
