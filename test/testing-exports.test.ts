// The `./testing` entry point gives hosts the issuer and the emulator.
import t from 'tap'
import * as testing from '../lib/testing/index.js'

t.test('the testing entry point exports the local issuer and the Authsignal emulator', async t => {
  t.type(testing.startCognitoIssuer, 'function')
  t.type(testing.startAuthsignalEmulator, 'function')
  t.type(testing.signJwt, 'function')
  t.type(testing.generateSigningKey, 'function')
})
