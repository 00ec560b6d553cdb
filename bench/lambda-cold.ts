// Row 9, in a fresh process under plain node: the Lambda handler's cold start, on the function as AWS SAM
// bundles it (bench/lambda-bundle.ts). Time to load the bundle (Fastify, the plugin, the SDK), then the
// first invocation (the app is built, the JWKS fetched, the token verified, Authsignal called), then a warm one.
import { createRequire } from 'node:module'
import { serveParent } from './ipc.js'

export interface ColdStartArgs { env: Record<string, string>, token: string, bundle: string }
export interface ColdStartResult {
  importMs: number
  firstMs: number
  warmMs: number
  firstStatus: number
  warmStatus: number
  processMs: number
  /** The same on the process's CPU time: on a busy machine the wall clock also counts other processes. */
  importCpuMs: number
  firstCpuMs: number
}

const cpuMs = (): number => { const { user, system } = process.cpuUsage(); return (user + system) / 1000 }

type Handler = (event: unknown, context: unknown) => Promise<{ statusCode: number }>

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

async function run ({ env, token, bundle }: ColdStartArgs): Promise<ColdStartResult> {
  Object.assign(process.env, env)
  const c0 = cpuMs()
  const t0 = performance.now()
  // Lambda's Node runtime loads a CommonJS handler with require (an ESM import() would first scan the whole
  // bundle for its export names).
  const { handler } = createRequire(bundle)(bundle) as { handler: Handler }
  const t1 = performance.now()
  const c1 = cpuMs()
  const first = await handler(event(token), {})
  const t2 = performance.now()
  const c2 = cpuMs()
  const warm = await handler(event(token), {})
  const t3 = performance.now()
  // processMs: node's own start-up before this runner ran, which Lambda's Init phase also counts.
  return { importMs: t1 - t0, firstMs: t2 - t1, warmMs: t3 - t2, firstStatus: first.statusCode, warmStatus: warm.statusCode, processMs: t0, importCpuMs: c1 - c0, firstCpuMs: c2 - c1 }
}

serveParent({}, { run: (args) => run(args as ColdStartArgs) }, async () => {})
