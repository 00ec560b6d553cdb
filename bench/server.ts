// One app under test in its own process: `server.ts <bare|plugin|baseline> <json options>`.
// Also runs the direct-SDK side of row 8 here, so both sides of that comparison share a process.
import type { AddressInfo } from 'node:net'
import { Authsignal } from '@authsignal/node'
import { AuthsignalApi } from '../lib/authsignal/api.js'
import { createAuthsignalClient } from '../lib/authsignal/client.js'
import { buildApp, cacheStats, closeStoreClients, type AppKind, type AppOptions } from './apps.js'
import { serveParent } from './ipc.js'

export interface ServerReady { url: string }
export interface SdkLoopResult { ops: number, errors: number, seconds: number }
export interface SdkLoopArgs { durationMs: number, concurrency: number, userId: string, via: 'sdk' | 'caller' }

const kind = process.argv[2] as AppKind
const options = JSON.parse(process.argv[3] ?? '{}') as AppOptions
const app = await buildApp(kind, options)
await app.listen({ host: '127.0.0.1', port: 0 })
const { port } = app.server.address() as AddressInfo

/** `concurrency` loops calling getAuthenticators back to back for `durationMs`: what the SDK alone reaches. */
async function sdkLoop ({ durationMs, concurrency, userId, via }: SdkLoopArgs): Promise<SdkLoopResult> {
  if (options.upstream === undefined) throw new Error('no upstream configured')
  const { secret, apiUrl } = options.upstream
  // retries: 0 as the plugin's own client: the default would put axios-retry on the global axios.
  const client = new Authsignal({ apiSecretKey: secret, apiUrl, retries: 0 })
  // 'caller': the plugin's own facade (client, deadline, shape check), without HTTP serving, to locate any overhead.
  const api = new AuthsignalApi(createAuthsignalClient({ apiSecretKey: secret, apiUrl }), 5000)
  const call = via === 'sdk'
    ? () => client.getAuthenticators({ userId })
    : () => api.listAuthenticators(userId)
  let ops = 0
  let errors = 0
  const start = performance.now()
  const end = start + durationMs
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < end) {
      try {
        await call()
        ops++
      } catch {
        errors++
      }
    }
  }))
  return { ops, errors, seconds: (performance.now() - start) / 1000 }
}

serveParent({ url: `http://127.0.0.1:${port}` } satisfies ServerReady, {
  stats: () => ({ ...cacheStats }),
  cpu: () => process.cpuUsage(),
  sdkLoop: (args) => sdkLoop(args as SdkLoopArgs)
}, async () => {
  await app.close()
  closeStoreClients()
})
