// The plugin imported before @fastify/jwt, default decorator names: `request.user` is the slot both write
// at run time, typed by @fastify/jwt (its `UserType`, which hosts set through `FastifyJWT`); no clash either way.
import Fastify from 'fastify'
import authenticatorsPlugin, { type AuthenticateHook } from '../../../index.js'
import fastifyJwt from '@fastify/jwt'
import { describe, expect, test } from 'tstyche'

describe('beside @fastify/jwt, with the default names', () => {
  const app = Fastify()

  test('both plugins register', () => {
    expect(app.register(authenticatorsPlugin, { cognito: { userPoolId: 'eu-west-1_AbCdEf123', clientId: 'c' }, authsignal: { apiSecretKey: 's' } })).type.not.toRaiseError()
    expect(app.register(fastifyJwt, { secret: 's' })).type.not.toRaiseError()
  })

  test('app.authenticate is the plugin\'s hook', () => {
    expect(app.authenticate).type.toBe<AuthenticateHook>()
  })

  test('request.user is @fastify/jwt\'s, whichever declaration TypeScript reads first', () => {
    app.get('/me', { onRequest: app.authenticate }, async (request) => {
      expect(request.user).type.toBe<string | object | Buffer>()
      return {}
    })
  })
})
