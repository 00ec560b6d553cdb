// routes.support at registration: off by default; refused, with a message naming the option, without a non-empty
// requiredGroups, without routes.remove (its lock and challenge action) or with the challenge-token route off.
import Fastify from 'fastify'
import t from 'tap'
import authenticatorsPlugin from '../index.js'
import { resolveOptions } from '../lib/options/index.js'

const cognito = { userPoolId: 'eu-west-1_AbCdEf123', clientId: 'client-1' }
const authsignal = { apiSecretKey: 'secret' }
const routes = (value: unknown) => resolveOptions({ cognito, authsignal, routes: value }).routes

t.test('routes.support: off by default; its defaults; the challenge-token route comes with it', async t => {
  t.equal(routes(undefined).support, false)
  t.equal(routes({ support: false }).support, false)
  const on = routes({ support: { requiredGroups: ['support'] } })
  t.same(on.support, { path: '/support/users', requiredGroups: ['support'], requireChallenge: true })
  t.same(on.challengeToken, { path: '/challenge-token', action: 'removeAuthenticator' }, 'mounted although routes.remove.requireChallenge is off')
  t.same(routes({ support: { requiredGroups: ['a', 'b'], requireChallenge: false, path: '/staff/' } }).support, { path: '/staff', requiredGroups: ['a', 'b'], requireChallenge: false })
})

t.test('routes.support refuses what would leave it ungated or unable to work, and says why', async t => {
  const refusals: Array<[unknown, RegExp]> = [
    [{ support: true }, /routes\.support\.requiredGroups: required: the Cognito groups of the staff/],
    [{ support: {} }, /routes\.support\.requiredGroups: required/],
    [{ support: { requiredGroups: [] } }, /routes\.support\.requiredGroups: expected at least one group: with none, every signed-in user could act/],
    [{ support: { requiredGroups: 'support' } }, /routes\.support\.requiredGroups: expected an array of strings/],
    [{ support: { requiredGroups: [''] } }, /routes\.support\.requiredGroups\[0\]: expected a non-empty string/],
    [{ support: { requiredGroups: ['s'], requireChallenge: 'yes' } }, /routes\.support\.requireChallenge: expected a boolean/],
    [{ support: { requiredGroups: ['s'], path: '/users/:id' } }, /routes\.support\.path: expected a static path/],
    [{ support: { requiredGroups: ['s'], path: '/users/*' } }, /routes\.support\.path: expected a static path/],
    [{ support: { requiredGroup: ['s'] } }, /routes\.support\.requiredGroup: unknown option \(did you mean requiredGroups\?\)/],
    [{ remove: false, support: { requiredGroups: ['s'] } }, /routes\.support: needs routes\.remove/],
    [{ challengeToken: false, support: { requiredGroups: ['s'] } }, /routes\.challengeToken: needed by routes\.support/]
  ]
  for (const [value, message] of refusals) {
    t.throws(() => routes(value), { code: 'FST_AUTHSIGNAL_COGNITO_INVALID_OPTION', message }, JSON.stringify(value))
  }
})

t.test('register fails with the reason when support has no groups', async t => {
  const app = Fastify()
  t.teardown(() => app.close())
  app.register(authenticatorsPlugin, { cognito, authsignal, routes: { support: { requiredGroups: [] } } })
  await t.rejects(async () => { await app.ready() }, /Invalid option routes\.support\.requiredGroups/)
})
