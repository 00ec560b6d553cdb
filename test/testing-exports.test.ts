// The `./testing` entry point gives hosts the issuer and the emulator.
import t from 'tap'
import * as testing from '../lib/testing/index.js'

t.test('the testing entry point exports the local issuer and the Authsignal emulator', async t => {
  t.type(testing.startCognitoIssuer, 'function')
  t.type(testing.startAuthsignalEmulator, 'function')
  t.type(testing.signJwt, 'function')
  t.type(testing.generateSigningKey, 'function')
})

t.test('the local issuer serves its JWKS at the pool path only', async t => {
  const issuer = await testing.startCognitoIssuer()
  t.teardown(() => issuer.close())
  const jwks = await (await fetch(issuer.jwksUri)).json() as { keys: Array<{ kid: string }> }
  t.same(jwks.keys.map(k => k.kid), [issuer.kid])
  t.equal((await fetch(`${issuer.url}/other/.well-known/jwks.json`)).status, 404)
  t.equal(issuer.jwksRequests, 1, 'only the JWKS request is counted')
})
