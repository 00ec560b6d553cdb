// `tsx bench/webhook-verify.ts`: what verifying one of Authsignal's webhook deliveries costs. Rows: the SDK's
// constructEvent alone (what Authsignal's docs show), the plugin's verifier (a two-sided timestamp check and a
// timing-safe HMAC compare, then the SDK's parse), and the whole route in process (app.inject: body read,
// verify, parse, claim and remember the event id in memoryLock, onAuthenticatorChange). Knob: BENCH_N (20000).
import { randomUUID } from 'node:crypto'
import { Authsignal } from '@authsignal/node'
import Fastify from 'fastify'
import authenticatorsPlugin from '../index.js'
import { verifyWebhook } from '../lib/authsignal/webhook-signature.js'
import { signWebhook } from '../lib/testing/authsignal-emulator.js'

const N = Number(process.env.BENCH_N ?? 20_000)
const SECRET = 'bench-secret'
const sdk = new Authsignal({ apiSecretKey: SECRET, retries: 0 })

function body (id: string): string {
  return JSON.stringify({
    version: 1,
    id,
    source: 'https://authsignal.com',
    time: new Date().toISOString(),
    tenantId: 't',
    type: 'authenticator.created',
    data: { userId: randomUUID(), verificationMethod: 'EMAIL_OTP', createdAt: new Date().toISOString(), userAuthenticatorId: randomUUID(), email: 'someone@example.com' }
  })
}

function perCall (label: string, fn: (i: number) => void): string {
  for (let i = 0; i < 1000; i++) fn(i) // warm-up
  const started = process.hrtime.bigint()
  for (let i = 0; i < N; i++) fn(i)
  const us = Number(process.hrtime.bigint() - started) / 1000 / N
  return `${label.padEnd(58)} ${us.toFixed(1).padStart(7)} µs`
}

const payload = body(randomUUID())
const header = signWebhook(SECRET, payload)
const raw = Buffer.from(payload)
const rows = [
  perCall('SDK webhook.constructEvent (=== compare, past only)', () => { sdk.webhook.constructEvent(payload, header) }),
  perCall('plugin verifyWebhook (± tolerance, timingSafeEqual, SDK parse)', () => { verifyWebhook(sdk.webhook, raw, header, 300) })
]

const app = Fastify()
await app.register(authenticatorsPlugin, {
  cognito: { userPoolId: 'eu-west-1_AbCdEf123', clientId: 'c', jwksUri: 'http://127.0.0.1:9/jwks.json' },
  authsignal: { apiSecretKey: SECRET, apiUrl: 'http://127.0.0.1:9/v1' },
  routes: { webhook: true },
  onAuthenticatorChange: () => {}
})
await app.ready()
const deliveries = Array.from({ length: Math.min(N, 5000) }, () => { const b = body(randomUUID()); return { b, h: signWebhook(SECRET, b) } })
const started = process.hrtime.bigint()
for (const { b, h } of deliveries) {
  const res = await app.inject({ method: 'POST', url: '/authenticators/webhook', payload: b, headers: { 'content-type': 'application/json', 'x-signature-v2': h } })
  if (res.statusCode !== 200) throw new Error(`unexpected ${res.statusCode}`)
}
const us = Number(process.hrtime.bigint() - started) / 1000 / deliveries.length
rows.push(`${'route, in process (inject), each event new'.padEnd(58)} ${us.toFixed(1).padStart(7)} µs`)
await app.close()
console.log(rows.join('\n'))
