// The README's rate-limiting example, as written there: @fastify/rate-limit keyed by the verified user, run
// as a preHandler (after the routes' `app.authenticate` has set request.user). One user's flood is 429 before
// any Authsignal call; another user is not affected.
import rateLimit from '@fastify/rate-limit'
import Fastify from 'fastify'
import t from 'tap'
import authenticatorsPlugin, { safeLoggerOptions } from '../../index.js'
import { startAuthsignalEmulator } from '../../lib/testing/authsignal-emulator.js'
import { startCognitoIssuer } from '../../lib/testing/cognito-issuer.js'
import { ALICE, assertNothingLeaked, BOB, Capture, send, type Target } from './helpers.js'
import { cognitoOptions } from '../helpers.js'

t.test('rate limit keyed by user: Alice\'s 4th request in the window is 429 with no Authsignal call, Bob still passes', async t => {
  const capture = new Capture()
  const emu = await startAuthsignalEmulator()
  t.teardown(() => emu.close())
  const issuer = await startCognitoIssuer()
  t.teardown(() => issuer.close())

  const app = Fastify({ logger: { ...safeLoggerOptions, level: 'trace', stream: capture.stream } })
  await app.register(rateLimit, {
    hook: 'preHandler',
    max: 3,
    timeWindow: '1 minute',
    keyGenerator: (request) => request.user?.sub ?? request.ip
  })
  await app.register(authenticatorsPlugin, {
    cognito: cognitoOptions(issuer),
    authsignal: { apiSecretKey: capture.keep(emu.secret), apiUrl: emu.apiUrl }
  })
  t.teardown(() => app.close())
  await app.listen({ host: '127.0.0.1', port: 0 })
  const target: Target = { port: (app.server.address() as { port: number }).port, capture }
  // Every request with a fresh token of the same user: the key is the user, not the token.
  const as = async (sub: string) => send(target, { method: 'POST', path: '/authenticators/token', headers: { authorization: `Bearer ${capture.keep(issuer.mint({ sub }))}` } })

  const alice = [await as(ALICE), await as(ALICE), await as(ALICE), await as(ALICE)]
  const bob = await as(BOB)

  t.same(alice.map(a => a.status), [200, 200, 200, 429])
  t.equal(bob.status, 200, 'Bob has his own budget')
  t.same(emu.requests.map(r => r.path), [...Array(3).fill(`/v1/users/${ALICE}/actions/addAuthenticator`), `/v1/users/${BOB}/actions/addAuthenticator`], 'the 429 made no Authsignal call')
  assertNothingLeaked(t, capture, { lines: 10, secrets: 8 })
})
