// removalWorstCaseMs: the longest a removal can take, from the options the host registers, for its request timeout.
import t from 'tap'
import { removalWorstCaseMs, type AuthenticatorsPluginOptions } from '../index.js'
import { STORE_TIMEOUT_MS } from '../lib/stores/lock-store.js'

const cognito = { userPoolId: 'eu-west-1_AbCdEf123', clientId: 'client-1' }
const base = { cognito, authsignal: { apiSecretKey: 'secret', timeoutMs: 1000 }, routes: { remove: { requireChallenge: true, lockWaitMs: 2000 } } }

/** The worst case with one option changed. */
function withOption (change: Partial<AuthenticatorsPluginOptions>): number {
  return removalWorstCaseMs({ ...base, ...change })
}

t.test('each upstream call the removal makes adds the Authsignal deadline: five with the step-up, three without', async t => {
  const slower = (timeoutMs: number, requireChallenge: boolean) =>
    withOption({ authsignal: { apiSecretKey: 'secret', timeoutMs }, routes: { remove: { requireChallenge, lockWaitMs: 2000 } } })
  t.equal(slower(1001, true) - slower(1000, true), 5, 'two step-up calls, two under the lock, the session revocation')
  t.equal(slower(1001, false) - slower(1000, false), 3, 'no step-up calls')
  t.equal(slower(1000, true) - slower(1000, false), 2 * 1000, 'the step-up is two calls at the deadline')
})

t.test('the lock wait counts once, on top of the lock store\'s acquire and release at their bound', async t => {
  const waiting = (lockWaitMs: number) => withOption({ routes: { remove: { requireChallenge: true, lockWaitMs } } })
  t.equal(waiting(2500) - waiting(2000), 500)
  t.ok(waiting(0) >= 2 * STORE_TIMEOUT_MS + 2 * 1000, 'with no wait: still the store\'s two operations and the two calls under the lock')
})

t.test('verification counts the slowest pool\'s JWKS fetch', async t => {
  const pools = (...jwksTimeoutMs: number[]) => withOption({
    cognito: jwksTimeoutMs.map((ms, i) => ({ ...cognito, userPoolId: `eu-west-1_Pool${i}`, userIdPrefix: `p${i}:`, jwksTimeoutMs: ms }))
  })
  t.equal(pools(900, 4000) - pools(900, 100), 4000 - 900, 'the slower pool, not the sum')
})

t.test('the follow-ups run side by side: the longer of a revocation and onAuthenticatorChange counts', async t => {
  const hook = (onAuthenticatorChangeTimeoutMs: number) => withOption({ onAuthenticatorChange: () => {}, onAuthenticatorChangeTimeoutMs })
  t.equal(hook(500), hook(1000), 'a hook shorter than the Authsignal deadline adds nothing')
  t.equal(hook(3000) - hook(1000), 2000, 'a longer hook counts instead')
})

t.test('no removal route, no removal; bad options fail as register does', async t => {
  t.equal(withOption({ routes: { remove: false } }), 0)
  t.throws(() => withOption({ authsignal: { apiSecretKey: 'secret', timeoutMs: -1 } }), /authsignal\.timeoutMs/)
})
