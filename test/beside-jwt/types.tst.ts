// Types of the README set-up (app.ts: @fastify/jwt imported before the plugin, DecoratorNames renamed):
// each plugin's claims on its own routes, each hook under its own name.
import Fastify, { type FastifyRequest } from 'fastify'
import { describe, expect, test } from 'tstyche'
import type { AuthenticateHook, CognitoClaims } from '../../index.js'
import type { HostClaims } from './app.js'

describe('beside @fastify/jwt, with decorators renamed', () => {
  const app = Fastify()

  test('app.authenticate is the host\'s own, app.cognitoAuthenticate the plugin\'s', () => {
    expect(app.authenticate).type.toBe<(request: FastifyRequest) => Promise<void>>()
    expect(app.cognitoAuthenticate).type.toBe<AuthenticateHook>()
  })

  test('request.user holds @fastify/jwt\'s claims, request.cognitoUser the plugin\'s', () => {
    app.get('/account', { onRequest: app.authenticate }, async (request) => {
      expect(request.user).type.toBe<HostClaims>()
      return {}
    })
    app.get('/me', { onRequest: app.cognitoAuthenticate }, async (request) => {
      expect(request.cognitoUser).type.toBe<CognitoClaims>()
      expect(request.cognitoUser.sub).type.toBe<string>()
      return {}
    })
  })

  test('@fastify/auth takes both hooks', () => {
    expect(app.auth([app.authenticate, app.cognitoAuthenticate])).type.not.toRaiseError()
  })
})
