// The same app on AWS Lambda behind an API Gateway HTTP API (payload format 2.0), through
// @fastify/aws-lambda: one function serves the four routes the guide splits into four Lambdas.
// Configuration comes from the function's environment:
//   COGNITO_USER_POOL_ID  the pool, `<region>_<id>`                        (required)
//   COGNITO_CLIENT_ID     accepted app client id(s), comma-separated        (required)
//   AUTHSIGNAL_SECRET     Authsignal server API secret                     (required)
//   AUTHSIGNAL_API_URL    your region's API URL, e.g. https://au.api.authsignal.com/v1 (optional)
//   COGNITO_ISSUER, COGNITO_JWKS_URI  override issuer and JWKS (local testing only)   (optional)
//   LOG_LEVEL             Fastify log level, default `info` (logs go to CloudWatch)    (optional)
//   LOCK_TABLE_NAME       DynamoDB table for the last-authenticator lock (README, Safety): every concurrent
//                         request is its own Lambda process, so the lock must be shared  (recommended)
//   AWS_REGION            set by Lambda; the region of the lock table
//   DYNAMODB_ENDPOINT     override the DynamoDB endpoint (local testing only)              (optional)
//
// Works with or without a JWT authorizer on the route: API Gateway passes the Authorization header
// through either way, and the plugin verifies the bearer token itself. We evaluated taking the
// claims from the authorizer context instead (`requestContext.authorizer.jwt.claims`, the seed's
// design) and kept verifying as the default:
// - it costs little: the JWKS is fetched once per container (prewarmed at cold start) and a verified
//   token is cached until its `exp`, so a warm container pays one map lookup per request;
// - the context is only trustworthy if API Gateway is the only way to invoke the function (no
//   function URL, no other trigger, no direct `lambda:InvokeFunction` by anyone who can forge events);
// - the HTTP API authorizer checks issuer, expiry and that `aud` or `client_id` is a configured
//   audience, but not `token_use`, so it lets an ID token through where the plugin requires an access
//   token, and it hands over claims flattened to strings (`cognito:groups` as "[a b]").
// Use the `$default` stage (SAM's default for HttpApi): with a named stage `rawPath` starts with it.
import awsLambdaFastify from '@fastify/aws-lambda'
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import Fastify, { type FastifyInstance } from 'fastify'
import authenticatorsPlugin, { dynamoDbLock, safeLoggerOptions, type DynamoDbLockClient } from '../index.js'

export type LambdaEnv = Record<string, string | undefined>

/** The parts of an API Gateway HTTP API (payload 2.0) event the handler reads. */
export interface ApiGatewayV2Event {
  version: '2.0'
  rawPath: string
  rawQueryString?: string
  headers: Record<string, string>
  requestContext: {
    http: { method: string, path?: string, protocol?: string, sourceIp?: string, userAgent?: string }
    authorizer?: unknown
    [key: string]: unknown
  }
  body?: string
  isBase64Encoded?: boolean
  [key: string]: unknown
}

export interface ApiGatewayV2Result {
  statusCode: number
  headers: Record<string, string>
  body: string
  isBase64Encoded?: boolean
  cookies?: string[]
}

// An empty value counts as unset.
function optional (env: LambdaEnv, name: string): string | undefined {
  const value = env[name]?.trim()
  return value === '' ? undefined : value
}

function required (env: LambdaEnv, name: string): string {
  const value = optional(env, name)
  if (value === undefined) throw new Error(`Environment variable ${name} is not set (see examples/lambda.ts)`)
  return value
}

/** The Fastify app with the plugin, configured from `env`. Pure: nothing is read from `process.env`. */
export function buildLambdaApp (env: LambdaEnv): FastifyInstance {
  const cognito = {
    userPoolId: required(env, 'COGNITO_USER_POOL_ID'),
    clientId: required(env, 'COGNITO_CLIENT_ID').split(',').map(id => id.trim()),
    issuer: optional(env, 'COGNITO_ISSUER'),
    jwksUri: optional(env, 'COGNITO_JWKS_URI')
  }
  const authsignal = { apiSecretKey: required(env, 'AUTHSIGNAL_SECRET'), apiUrl: optional(env, 'AUTHSIGNAL_API_URL') }
  const tableName = optional(env, 'LOCK_TABLE_NAME')
  const endpoint = optional(env, 'DYNAMODB_ENDPOINT')
  // Credentials come from the function's role (the SDK's default chain); the client is made once per container,
  // on the first removal: loading the DynamoDB SDK is a large part of a cold start that lists authenticators.
  let client: Promise<DynamoDBClient> | undefined
  const lazyClient: DynamoDbLockClient = {
    send: async (command, options) => {
      client ??= import('@aws-sdk/client-dynamodb').then(({ DynamoDBClient }) => new DynamoDBClient({ region: optional(env, 'AWS_REGION'), ...(endpoint !== undefined && { endpoint }) }))
      return await (await client).send(command as never, options)
    }
  }
  const lock = tableName === undefined ? undefined : dynamoDbLock({ client: lazyClient, tableName })
  // No trustProxy: @fastify/aws-lambda sets the remote address from `requestContext.http.sourceIp`,
  // which API Gateway fills in; an `X-Forwarded-For` header would come from the client.
  // validateSchema off: the routes' schemas are fixed (and checked by the plugin's tests), so each cold start
  // need not compile Ajv's meta-schema to check them again.
  const app = Fastify({
    logger: { ...safeLoggerOptions, level: optional(env, 'LOG_LEVEL') ?? 'info' },
    ajv: { customOptions: { validateSchema: false } }
  })
  app.register(authenticatorsPlugin, { cognito, authsignal, ...(lock !== undefined && { routes: { remove: { lock } } }) })
  return app
}

let proxy: ((event: ApiGatewayV2Event, context: unknown) => Promise<ApiGatewayV2Result>) | undefined

/** The Lambda entry point. The app is built on the first invocation, so importing needs no env. */
export async function handler (event: ApiGatewayV2Event, context: unknown): Promise<ApiGatewayV2Result> {
  proxy ??= awsLambdaFastify<ApiGatewayV2Event>(buildLambdaApp(process.env))
  return await proxy(event, context as never)
}
