// The same corpus through aws-jwt-verify (AWS's reference verifier for Cognito): for every token,
// the plugin and aws-jwt-verify must agree on accept or reject.
import t from 'tap'
import { CognitoJwtVerifier } from 'aws-jwt-verify'
import { buildCorpus, ORIGINAL_ISSUER, POOL_ID } from './fixtures/token-corpus.js'
import { buildApp, issuerFor } from './helpers.js'

t.test('the plugin and aws-jwt-verify agree on every corpus token', async t => {
  const issuer = await issuerFor(t, { userPoolId: POOL_ID, issuer: ORIGINAL_ISSUER })
  const app = await buildApp(t, issuer, { cognito: { issuer: undefined } })
  const reference = CognitoJwtVerifier.create({ userPoolId: POOL_ID, tokenUse: 'access', clientId: issuer.clientId })
  const jwks = await (await fetch(issuer.jwksUri)).json()
  reference.cacheJwks(jwks) // caches it for both issuer forms of the pool

  const rows = buildCorpus(issuer).filter(row => row.token !== undefined)
  t.ok(rows.length >= 20, 'the corpus has token rows to compare')
  for (const row of rows) {
    let referenceAccepts = true
    try {
      reference.verifySync(row.token as string)
    } catch {
      referenceAccepts = false
    }
    const res = await app.inject({ url: '/me', headers: { authorization: `Bearer ${row.token as string}` } })
    if (row.stricter === undefined) {
      t.equal(res.statusCode === 200, referenceAccepts, `${row.name}: plugin ${res.statusCode}, aws-jwt-verify ${referenceAccepts ? 'accepts' : 'rejects'}`)
    } else {
      // Deliberately stricter: aws-jwt-verify accepts, the plugin refuses (if either changes, this fails).
      t.ok(referenceAccepts && res.statusCode === 401, `${row.name}: stricter than aws-jwt-verify (${row.stricter})`)
    }
  }
})
