// Server API routes about actions: track, get action, query a user's actions, validate challenge.
import { compact, errorReply, isRecord } from './http.js'
import type { Route, ServerApiContext } from './server-api.js'

export function actionRoutes ({ store, tokens, baseUrl }: ServerApiContext): Route[] {
  return [
    {
      method: 'POST',
      pattern: ['users', ':userId', 'actions', ':action'],
      handle: ({ userId, action }, body) => {
        const methods = store.enrolled(userId as string)
        // Like Authsignal: the rules decide (ALLOW without any, see setRule); being enrolled does not.
        const state = store.outcome(userId as string, action as string)
        const record = store.createAction(userId as string, action as string, isRecord(body) ? body : {}, state)
        const token = tokens.issue(record)
        return {
          status: 200,
          body: {
            idempotencyKey: record.idempotencyKey,
            state,
            url: `${baseUrl()}/prebuilt?token=${token}`,
            token,
            isEnrolled: methods.length > 0,
            enrolledVerificationMethods: methods,
            allowedVerificationMethods: store.allowed(userId as string)
          }
        }
      }
    },
    {
      method: 'GET',
      pattern: ['users', ':userId', 'actions', ':action', ':idempotencyKey'],
      handle: ({ userId, action, idempotencyKey }) => {
        const record = store.actions.get(idempotencyKey as string)
        if (record === undefined || record.userId !== userId || record.action !== action) return errorReply(404, 'not_found', 'Action not found')
        return {
          status: 200,
          body: compact({
            state: record.state,
            stateUpdatedAt: record.stateUpdatedAt,
            createdAt: record.createdAt,
            verificationMethod: record.verificationMethod
          })
        }
      }
    },
    {
      // queryUserActions: newest first; `codes` is a comma-separated list of action codes. Authsignal's
      // default window and paging are not emulated: every action of the user that matches is listed.
      method: 'GET',
      pattern: ['users', ':userId', 'actions'],
      handle: ({ userId }, _body, query) => {
        const codes = query.get('codes')?.split(',')
        const state = query.get('state')
        const fromDate = query.get('fromDate')
        const from = fromDate === null ? '' : new Date(fromDate)
        if (from !== '' && Number.isNaN(from.getTime())) return errorReply(400, 'invalid_request', 'fromDate must be an ISO 8601 date')
        const since = from === '' ? '' : from.toISOString()
        const found = [...store.actionsOf(userId as string)].reverse().filter((r) =>
          (codes === undefined || codes.includes(r.action)) && (state === null || r.state === state) && r.createdAt >= since)
        return {
          status: 200,
          body: found.map((r) => compact({
            actionCode: r.action,
            idempotencyKey: r.idempotencyKey,
            createdAt: r.createdAt,
            updatedAt: r.stateUpdatedAt,
            state: r.state,
            stateUpdatedAt: r.stateUpdatedAt,
            verificationMethod: r.verificationMethod,
            verifiedByAuthenticatorId: r.verifiedByAuthenticatorId
          }))
        }
      }
    },
    {
      method: 'POST',
      pattern: ['validate'],
      handle: (_params, body) => {
        const input = isRecord(body) ? body : {}
        const checked = tokens.check(input.token)
        if ('reason' in checked) {
          return { status: 200, body: { isValid: false, error: checked.reason === 'expired' ? 'Token has expired' : 'Invalid token' } }
        }
        const { record } = checked
        if ((input.userId !== undefined && input.userId !== record.userId) || (input.action !== undefined && input.action !== record.action)) {
          return { status: 200, body: { isValid: false, error: 'Token does not match the given userId or action' } }
        }
        return {
          status: 200,
          body: compact({
            isValid: record.state === 'CHALLENGE_SUCCEEDED',
            state: record.state,
            stateUpdatedAt: record.stateUpdatedAt,
            userId: record.userId,
            actionCode: record.action,
            idempotencyKey: record.idempotencyKey,
            verificationMethod: record.verificationMethod
          })
        }
      }
    }
  ]
}
