// Every row of the attack corpus → its status and stable code, a WWW-Authenticate challenge,
// and at most one JWKS fetch beyond the prewarm: the first unknown kid is looked for once (it could be a key
// Cognito has just published), and the penalty window that fetch opens covers every bad token after it.
import t from 'tap'
import { buildCorpus, ORIGINAL_ISSUER, POOL_ID } from './fixtures/token-corpus.js'
import { buildApp, issuerFor } from './helpers.js'

t.test('attack corpus', async t => {
  const issuer = await issuerFor(t, { userPoolId: POOL_ID, issuer: ORIGINAL_ISSUER })
  // The pool's default issuers (both Cognito forms); only the JWKS is served locally.
  const app = await buildApp(t, issuer, { cognito: { issuer: undefined } })
  const fetchesAfterPrewarm = issuer.jwksRequests
  t.equal(fetchesAfterPrewarm, 1, 'the JWKS was prewarmed once on ready')

  for (const row of buildCorpus(issuer)) {
    const headers = row.authorization === undefined ? {} : { authorization: row.authorization }
    const res = await app.inject({ url: '/me', headers })
    t.equal(res.statusCode, row.status, `${row.name}: status`)
    if (row.status === 401) {
      t.equal(res.json().code, row.code, `${row.name}: code`)
      t.match(res.headers['www-authenticate'], /^Bearer/, `${row.name}: WWW-Authenticate`)
      t.notOk(res.body.includes(row.token ?? '\u0000'), `${row.name}: the token is not echoed`)
    }
  }
  t.equal(issuer.jwksRequests, fetchesAfterPrewarm + 1, 'the bad tokens caused one JWKS fetch in all (the first unknown kid)')
})

t.test('a missing token gets a bare Bearer challenge; a bad one gets invalid_token', async t => {
  const issuer = await issuerFor(t)
  const app = await buildApp(t, issuer)
  const missing = await app.inject({ url: '/me' })
  t.equal(missing.headers['www-authenticate'], 'Bearer')
  const bad = await app.inject({ url: '/me', headers: { authorization: 'Bearer a.b.c' } })
  t.match(bad.headers['www-authenticate'], /^Bearer error="invalid_token", error_description="/)
})

t.test('Authorization header variants', async t => {
  const issuer = await issuerFor(t)
  const app = await buildApp(t, issuer)
  const token = issuer.mint()
  const cases: Array<[string, string | string[], number, string?]> = [
    ['lower-case scheme', `bearer ${token}`, 200],
    ['upper-case scheme', `BEARER ${token}`, 200],
    ['two spaces', `Bearer  ${token}`, 401, 'FST_COGNITO_TOKEN_MALFORMED'],
    ['tab instead of space', `Bearer\t${token}`, 401, 'FST_COGNITO_BAD_AUTHORIZATION_HEADER'],
    ['no token', 'Bearer ', 401, 'FST_COGNITO_TOKEN_MALFORMED'],
    ['empty header', '', 401, 'FST_COGNITO_NO_TOKEN'],
    ['several Authorization headers', [`Bearer ${token}`, `Bearer ${token}`], 401, 'FST_COGNITO_BAD_AUTHORIZATION_HEADER']
  ]
  for (const [name, authorization, status, code] of cases) {
    // Several headers of one name are sent as an array, as Node receives them.
    const res = await app.inject({ url: '/me', headers: { authorization } as unknown as Record<string, string> })
    t.equal(res.statusCode, status, `${name}: status`)
    if (code !== undefined) t.equal(res.json().code, code, `${name}: code`)
  }
})
