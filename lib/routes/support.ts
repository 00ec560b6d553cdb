// routes.support: staff in the required Cognito groups list and remove another user's authenticators (the lost
// phone: DESIGN.md, "Support"). In order: the token (401) and the groups (403), both before anything is read;
// the ids' and the reason's shape (400, no upstream call: the SDK puts the user id into the URL path unencoded);
// the agent on their own id (403: their own routes apply); the agent's own step-up challenge (403); then each
// removal under the target user's lock, the same store and key as the user's own removals (lib/routes/remove.ts),
// so a user's removal and an agent's never interleave. The last authenticator may go: that is the point.
//
// Fastify's router refuses a parameter longer than its `maxParamLength` (100 by default, a server option a
// plugin cannot set per route), and Authsignal user ids (a pool's prefix + its claim) may be up to 128
// characters. So each documented route has a hidden wildcard twin the router falls back to when a segment is
// too long for it: the twin splits the raw path itself (not the decoded wildcard, where `%2F` would be a '/')
// and runs the same handler.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { UpstreamAuthenticator } from '../authsignal/api.js'
import { checkGates } from '../cognito/gates.js'
import {
  AuthenticatorNotFoundError, InvalidAuthenticatorIdError, InvalidReasonError, InvalidUserIdError, SupportOwnUserError
} from '../errors.js'
import { supportFollowUp } from '../events/after-support-removal.js'
import type { ResolvedRemoveRoute, ResolvedSupportRoute } from '../options/index.js'
import { CHALLENGE_HEADER, StepUp } from '../step-up.js'
import { UserLock } from '../stores/user-lock.js'
import type { RouteContext } from './context.js'
import { summarise } from './list.js'
import { deleteUnderLease } from './remove.js'
import { AUTHENTICATOR_ID_PATTERN, authenticatorSchema, badRequest, commonErrors, errorSchema, routeSchema } from './schemas.js'

/** An Authsignal user id as the plugin makes them; `.` and `..` alone would be steps up the SDK's URL path. */
export const USER_ID_PATTERN = '^(?!\\.{1,2}$)[A-Za-z0-9._@:+-]{1,128}$'
const USER_ID = new RegExp(USER_ID_PATTERN)
const AUTHENTICATOR_ID = new RegExp(AUTHENTICATOR_ID_PATTERN)
const TAGS = ['support']

interface Target { userId: string, userAuthenticatorId?: string }
type Params = Record<string, string | undefined>
type SupportRequest = FastifyRequest<{ Params: Params, Body: { reason: string } | undefined, Headers: Record<string, string | undefined> }>

/** Refuses a request its schema refused, with the code of what was wrong: the user id, the authenticator id or the reason. */
function refuseInvalid (request: SupportRequest, userId: string): void {
  const error = request.validationError
  if (error === undefined) return
  if (error.validationContext === 'params') throw USER_ID.test(userId) ? new InvalidAuthenticatorIdError() : new InvalidUserIdError()
  throw error.validationContext === 'body' ? new InvalidReasonError() : error
}

/** The target of a documented route: its params, as its schema checked them. */
function paramsTarget (request: SupportRequest): Target {
  const { userId, userAuthenticatorId } = request.params as { userId: string, userAuthenticatorId?: string }
  refuseInvalid(request, userId)
  return { userId, userAuthenticatorId }
}

/** The target of a wildcard twin, from the raw path's segments; undefined when the path is none of the routes'. */
function rawTarget (request: SupportRequest): Target | undefined {
  // The segments past the route's own (`{prefix}{path}/*`); a path the router matched loosely (duplicate slashes)
  // is misaligned here and ends in a 404. Fastify has already refused (400 FST_ERR_BAD_URL) a path that does not decode.
  const before = (request.routeOptions.url as string).split('/').length - 1
  const segments = (request.url.split('?')[0] as string).split('/').slice(before)
  const [userId, authenticators, id, ...rest] = segments.map(decodeURIComponent) as [string, ...string[]]
  if (authenticators !== 'authenticators' || rest.length > 0) return undefined
  if (!USER_ID.test(userId)) throw new InvalidUserIdError()
  if (id !== undefined && !AUTHENTICATOR_ID.test(id)) throw new InvalidAuthenticatorIdError()
  refuseInvalid(request, userId)
  return { userId, userAuthenticatorId: id }
}

const userIdParam = { type: 'string', pattern: USER_ID_PATTERN, description: 'The Authsignal user id (a pool\'s userIdPrefix + its claim)' }
const reasonBody = {
  type: 'object',
  required: ['reason'],
  additionalProperties: false,
  properties: { reason: { type: 'string', minLength: 1, maxLength: 500, description: 'Why: written to the audit log line and told to onAuthenticatorChange' } }
} as const

export function supportRoutes (fastify: FastifyInstance, route: ResolvedSupportRoute, remove: ResolvedRemoveRoute, { api, authenticate, userIdOf, claimsOf, options }: RouteContext): void {
  const lock = new UserLock({ store: remove.lock, leaseMs: remove.leaseMs, waitMs: remove.lockWaitMs, callMs: options.authsignal.timeoutMs })
  const agentStepUp = new StepUp(api, { action: remove.challengeAction, maxAgeSec: remove.maxChallengeAgeSec, store: remove.lock, identifyFactor: false })
  const followUp = supportFollowUp(api, options)
  const showContactDetails = options.routes.list !== false && options.routes.list.showContactDetails
  const gates = { requiredGroups: route.requiredGroups, requiredScopes: [] }
  // Before any parsing or upstream call: who is not staff learns nothing, not even whether an id is well formed.
  const staffOnly = async (request: FastifyRequest): Promise<void> => { checkGates(claimsOf(request), gates) }
  const challenged = route.requireChallenge ? ` Needs the token of a \`${remove.challengeAction}\` challenge the caller completed themselves, in \`${CHALLENGE_HEADER}\`.` : ''
  const forbidden = {
    ...errorSchema,
    description: 'The caller lacks a required group, acts on their own user id' + (route.requireChallenge ? ', or their own completed challenge is missing or not valid' : '')
  }
  const removalErrors = {
    400: badRequest,
    ...commonErrors,
    403: forbidden,
    503: { ...errorSchema, description: 'The user pool\'s keys cannot be fetched, Authsignal is rate limiting, or the user\'s lock cannot be had' }
  }
  const headers = { type: 'object', properties: { [CHALLENGE_HEADER]: { type: 'string', maxLength: 8192, description: 'Authsignal token of the caller\'s completed challenge (when required)' } } }

  /** Who acts, on whom: the agent's id, never the target's own. */
  function agentOn (request: SupportRequest, target: Target): string {
    const agent = userIdOf(request)
    if (agent === target.userId) throw new SupportOwnUserError()
    return agent
  }

  // The agent's own challenge, judged as a user's step-up is (valid, theirs, recent) and used once: one removal or
  // one reset per challenge, consumed before the first delete (a 404 after it costs the agent a new challenge).
  // "Another factor than the one removed" does not apply: the agent's factors are not the target's.
  async function stepUp (request: SupportRequest, agent: string): Promise<void> {
    if (!route.requireChallenge) return
    await agentStepUp.consume(await agentStepUp.verify(agent, request.headers[CHALLENGE_HEADER]), request.log)
  }

  /** One removal under the target's lock: `pick` chooses from the user's authenticators as they are now. */
  async function removeOne (request: FastifyRequest, userId: string, pick: (owned: UpstreamAuthenticator[]) => UpstreamAuthenticator | undefined): Promise<UpstreamAuthenticator | undefined> {
    return await lock.run(`remove:${userId}`, request.log, async (lease) => {
      lease.assertTime()
      const target = pick(await api.listAuthenticators(userId))
      if (target === undefined) return undefined
      await deleteUnderLease(api, lease, userId, target.userAuthenticatorId)
      return target
    })
  }

  async function list (request: SupportRequest, target: Target): Promise<unknown> {
    agentOn(request, target)
    const authenticators = await api.listAuthenticators(target.userId)
    return { authenticators: authenticators.map(a => summarise(a, showContactDetails)) }
  }

  async function deleteOne (request: SupportRequest, reply: FastifyReply, target: Target): Promise<void> {
    const agent = agentOn(request, target)
    await stepUp(request, agent)
    const removed = await removeOne(request, target.userId, owned => owned.find(a => a.userAuthenticatorId === target.userAuthenticatorId))
    if (removed === undefined) throw new AuthenticatorNotFoundError()
    await followUp(request, reply, target.userId, [removed], { userId: agent, reason: (request.body as { reason: string }).reason })
    return reply.code(204).send()
  }

  // One lock per removal, each holding the lock for two calls as the lease is sized for; a factor enrolled during
  // the reset goes too. Each id is tried once, so a list that still shows a deleted id cannot loop.
  async function deleteAll (request: SupportRequest, reply: FastifyReply, target: Target): Promise<{ removed: number }> {
    const agent = agentOn(request, target)
    await stepUp(request, agent)
    const removed: UpstreamAuthenticator[] = []
    const tried = new Set<string>()
    const actor = { userId: agent, reason: (request.body as { reason: string }).reason }
    try {
      for (;;) {
        const next = await removeOne(request, target.userId, owned => owned.find(a => !tried.has(a.userAuthenticatorId)))
        if (next === undefined) break
        tried.add(next.userAuthenticatorId)
        removed.push(next)
      }
    } finally {
      // Also after a failure: what was removed before it is told and logged all the same (the follow-up never throws).
      await followUp(request, reply, target.userId, removed, actor)
    }
    return { removed: removed.length }
  }

  const base = route.path
  const userParams = { type: 'object', required: ['userId'], properties: { userId: userIdParam } }
  const oneParams = {
    type: 'object',
    required: ['userId', 'userAuthenticatorId'],
    properties: { userId: userIdParam, userAuthenticatorId: { type: 'string', pattern: AUTHENTICATOR_ID_PATTERN } }
  }
  const common = { onRequest: [authenticate, staffOnly], attachValidation: true }
  const documented = (schema: Record<string, unknown>) => routeSchema(options.openapi, { tags: TAGS, ...schema })
  const hidden = (schema: Record<string, unknown>) => ({ ...documented(schema), hide: true, params: { type: 'object', properties: { '*': { type: 'string' } } } })

  const listSchema = {
    summary: 'Support: list a user\'s authenticators',
    description: `For staff in the groups ${route.requiredGroups.join(', ')}. The same answer and masking as the user's own list.`,
    response: {
      200: { type: 'object', required: ['authenticators'], properties: { authenticators: { type: 'array', items: authenticatorSchema } } },
      400: badRequest,
      ...commonErrors,
      403: forbidden
    }
  }
  const oneSchema = {
    summary: 'Support: remove one of a user\'s authenticators',
    description: `For staff in the groups ${route.requiredGroups.join(', ')}; the last authenticator may go.${challenged}`,
    headers,
    body: reasonBody,
    response: { 204: { type: 'null', description: 'Removed' }, 404: { ...errorSchema, description: 'Not one of this user\'s authenticators' }, ...removalErrors }
  }
  const allSchema = {
    summary: 'Support: remove every authenticator of a user (the lost-phone reset)',
    description: `For staff in the groups ${route.requiredGroups.join(', ')}.${challenged}`,
    headers,
    body: reasonBody,
    response: {
      200: { type: 'object', required: ['removed'], additionalProperties: false, properties: { removed: { type: 'integer', description: 'How many authenticators were removed' } } },
      ...removalErrors
    }
  }

  fastify.get<{ Params: Params }>(`${base}/:userId/authenticators`, { ...common, schema: documented({ ...listSchema, params: userParams }) },
    async (request) => await list(request as SupportRequest, paramsTarget(request as SupportRequest)))
  fastify.delete<{ Params: Params }>(`${base}/:userId/authenticators/:userAuthenticatorId`, { ...common, schema: documented({ ...oneSchema, params: oneParams }) },
    async (request, reply) => { await deleteOne(request as SupportRequest, reply, paramsTarget(request as SupportRequest)) })
  fastify.delete<{ Params: Params }>(`${base}/:userId/authenticators`, { ...common, schema: documented({ ...allSchema, params: userParams }) },
    async (request, reply) => await deleteAll(request as SupportRequest, reply, paramsTarget(request as SupportRequest)))

  // The wildcard twins: the same handlers for ids the router's maxParamLength turned away.
  fastify.get(`${base}/*`, { ...common, schema: hidden(listSchema) }, async (request, reply) => {
    const target = rawTarget(request as SupportRequest)
    if (target === undefined || target.userAuthenticatorId !== undefined) return reply.callNotFound()
    return await list(request as SupportRequest, target)
  })
  fastify.delete(`${base}/*`, { ...common, schema: hidden({ ...allSchema, response: { ...oneSchema.response, ...allSchema.response } }) }, async (request, reply) => {
    const target = rawTarget(request as SupportRequest)
    if (target === undefined) return reply.callNotFound()
    return target.userAuthenticatorId === undefined ? await deleteAll(request as SupportRequest, reply, target) : await deleteOne(request as SupportRequest, reply, target)
  })
}
