// What the routes that track an action share (/token, /challenge-token, /prebuilt-ui): the request context
// Authsignal's rules read, `Cache-Control: no-store` on their answers (a token or a URL that proves identity
// must not sit in a browser's or a proxy's cache), and a `warn` line when Authsignal's rules refuse the action.
import type { FastifyReply, FastifyRequest, onErrorAsyncHookHandler, onSendHookHandler } from 'fastify'
import type { TrackContext } from '../authsignal/api.js'
import { ActionBlockedError } from '../errors.js'
import type { RouteContext } from './context.js'

export function trackContext (request: FastifyRequest): TrackContext {
  return { ipAddress: request.ip, userAgent: request.headers['user-agent'] }
}

export interface TrackedRouteHooks { onSend: onSendHookHandler, onError: onErrorAsyncHookHandler }

export function trackedRouteHooks ({ userIdOf }: Pick<RouteContext, 'userIdOf'>): TrackedRouteHooks {
  return {
    // On errors too: simpler than telling which answer carries what, and an error is never worth caching here.
    onSend: (_request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (err: null, payload: unknown) => void) => {
      reply.header('cache-control', 'no-store')
      done(null, payload)
    },
    onError: async (request: FastifyRequest, _reply: FastifyReply, error: Error) => {
      if (!(error instanceof ActionBlockedError)) return
      request.log.warn({ event: 'authsignal.action.refused', userId: userIdOf(request), route: request.routeOptions.url, reason: error.message },
        'fastify-authsignal-cognito: Authsignal\'s rules refused the action; no token or URL was given')
    }
  }
}
