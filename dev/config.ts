// What `npm run dev` runs against, read from the environment: real Cognito and/or real Authsignal when
// their variables are set (each side on its own), the local emulators otherwise. Pure, so every case
// is tested; a bad combination is a DevServerError whose one paragraph tells the developer what to set.
import { isAbsolute, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { DEFAULTS, USER_POOL_ID } from '../lib/options/defaults.js'

/** A failure the developer can fix (bad variables, a port in use): printed as is, no stack trace. */
export class DevServerError extends Error {
  override name = 'DevServerError'
}

export type Env = Record<string, string | undefined>

export type CognitoSource =
  | { kind: 'local', port: number, dataDir: string }
  | { kind: 'aws', userPoolId: string, clientId: string, region: string }

export type AuthsignalSource =
  | { kind: 'emulator', port: number }
  | { kind: 'authsignal', apiSecretKey: string, apiUrl: string }

export interface DevConfig {
  appPort: number
  cognito: CognitoSource
  authsignal: AuthsignalSource
  /** REDIS_URL: the rate limit and the removal lock go there (shared by instances); unset: in the process. */
  redisUrl?: string
  /** FRESH_SIGN_IN_SEC: the token route's freshSignInSec (0: an enrolled user always challenges before enrolling); unset: the plugin's default. */
  freshSignInSec?: number
}

export interface DevPorts {
  /** The example app (default 3000, env PORT). 0 picks a free port. */
  app?: number
  /** cognito-local (default 9229, env COGNITO_LOCAL_PORT). 0 picks a free port. */
  cognito?: number
  /** The Authsignal emulator (default 4010, env AUTHSIGNAL_EMULATOR_PORT). 0 picks a free port. */
  authsignal?: number
}

export const DEFAULT_PORTS = { app: 3000, cognito: 9229, authsignal: 4010 } as const
/** Git-ignored (see .gitignore); cognito-local keeps its pools and users here between runs. */
export const DEFAULT_DATA_DIR = fileURLToPath(new URL('../.dev/cognito-local', import.meta.url))

const SEE = 'See .env.example.'

// An empty value counts as unset, so a copied .env.example with blank lines means "use the emulators".
function read (env: Env, name: string): string | undefined {
  const value = env[name]?.trim()
  return value === undefined || value === '' ? undefined : value
}

function port (env: Env, name: string, override: number | undefined, fallback: number): number {
  if (override !== undefined) return override
  const text = read(env, name)
  if (text === undefined) return fallback
  const value = Number(text)
  if (!/^\d+$/.test(text) || value > 65535) throw new DevServerError(`${name}=${text} is not a port number (0 to 65535; 0 picks a free port). ${SEE}`)
  return value
}

function cognitoSource (env: Env, ports: DevPorts, cwd: string): CognitoSource {
  const userPoolId = read(env, 'COGNITO_USER_POOL_ID')
  const clientId = read(env, 'COGNITO_CLIENT_ID')
  if (userPoolId === undefined && clientId === undefined) {
    const dataDir = read(env, 'COGNITO_LOCAL_DATA_DIR')
    return {
      kind: 'local',
      port: port(env, 'COGNITO_LOCAL_PORT', ports.cognito, DEFAULT_PORTS.cognito),
      dataDir: dataDir === undefined ? DEFAULT_DATA_DIR : (isAbsolute(dataDir) ? dataDir : resolve(cwd, dataDir))
    }
  }
  if (userPoolId === undefined || clientId === undefined) {
    const [set, missing] = userPoolId === undefined ? ['COGNITO_CLIENT_ID', 'COGNITO_USER_POOL_ID'] : ['COGNITO_USER_POOL_ID', 'COGNITO_CLIENT_ID']
    throw new DevServerError(`${set} is set but ${missing} is not. To use a real Cognito user pool set both ` +
      '(COGNITO_USER_POOL_ID such as eu-west-1_AbCdEf123 and the app client id COGNITO_CLIENT_ID); ' +
      `to use the local cognito-local emulator unset both. ${SEE}`)
  }
  const region = USER_POOL_ID.exec(userPoolId)?.groups?.region
  if (region === undefined) {
    throw new DevServerError(`COGNITO_USER_POOL_ID=${userPoolId} is not a Cognito user pool id: expected "<region>_<id>" ` +
      `such as eu-west-1_AbCdEf123 (the "User pool ID" on the pool's overview page in the AWS console). ${SEE}`)
  }
  const awsRegion = read(env, 'AWS_REGION')
  if (awsRegion !== undefined && awsRegion !== region) {
    throw new DevServerError(`AWS_REGION=${awsRegion} does not match the region of COGNITO_USER_POOL_ID=${userPoolId} (${region}). ` +
      `A user pool lives in one region: set AWS_REGION=${region} or leave it unset. ${SEE}`)
  }
  return { kind: 'aws', userPoolId, clientId, region }
}

function authsignalSource (env: Env, ports: DevPorts): AuthsignalSource {
  const apiSecretKey = read(env, 'AUTHSIGNAL_SECRET')
  const apiUrl = read(env, 'AUTHSIGNAL_API_URL')
  if (apiSecretKey === undefined) {
    if (apiUrl !== undefined) {
      throw new DevServerError('AUTHSIGNAL_API_URL is set but AUTHSIGNAL_SECRET is not. To use the real Authsignal set both ' +
        '(the secret key and your region\'s API URL, from the Authsignal portal\'s API keys page); ' +
        `to use the local Authsignal emulator unset both. ${SEE}`)
    }
    return { kind: 'emulator', port: port(env, 'AUTHSIGNAL_EMULATOR_PORT', ports.authsignal, DEFAULT_PORTS.authsignal) }
  }
  if (apiUrl !== undefined && !/^https?:\/\/[^/\s]+/.test(apiUrl)) {
    throw new DevServerError(`AUTHSIGNAL_API_URL=${apiUrl} is not an http(s) URL: expected your region's API URL ` +
      `such as https://api.authsignal.com/v1 or https://au.api.authsignal.com/v1. ${SEE}`)
  }
  return { kind: 'authsignal', apiSecretKey, apiUrl: apiUrl ?? DEFAULTS.apiUrl } // the plugin's own default (Authsignal's US region)
}

/** `url` with its password, if any, replaced by *** (REDIS_URL may carry one): for messages and log lines. */
export function redactUrl (url: string): string {
  return url.replace(/\/\/([^/@:\s]*):[^/@\s]*@/, '//$1:***@')
}

/** The dev server's configuration from `env`; `ports` (from code, e.g. tests) wins over the env's ports. */
export function readDevConfig (env: Env, ports: DevPorts = {}, cwd = process.cwd()): DevConfig {
  const redisUrl = read(env, 'REDIS_URL')
  if (redisUrl !== undefined && !/^rediss?:\/\/[^/\s]+/.test(redisUrl)) {
    throw new DevServerError(`REDIS_URL=${redactUrl(redisUrl)} is not a Redis URL: expected redis://host:port (or rediss:// for TLS). ${SEE}`)
  }
  const fresh = read(env, 'FRESH_SIGN_IN_SEC')
  if (fresh !== undefined && (!/^\d+$/.test(fresh) || Number(fresh) > 86_400)) {
    throw new DevServerError(`FRESH_SIGN_IN_SEC=${fresh} is not a number of seconds from 0 to 86400. ${SEE}`)
  }
  return {
    appPort: port(env, 'PORT', ports.app, DEFAULT_PORTS.app),
    cognito: cognitoSource(env, ports, cwd),
    authsignal: authsignalSource(env, ports),
    ...(redisUrl !== undefined && { redisUrl }),
    ...(fresh !== undefined && { freshSignInSec: Number(fresh) })
  }
}
