// The one place the plugin calls Amazon Cognito's admin API, on a `CognitoIdentityProviderClient` the host
// passes (its credentials, region, retries): for the attribute sync and the sign-out after a removal. Every
// call runs under the plugin's upstream deadline (authsignal.timeoutMs: "every upstream call the plugin
// makes"), lib/deadline.ts: an abort passed to the SDK plus a race, and its failure becomes one of our errors that keeps the
// AWS error's name and nothing else (its message may quote the user's attributes).
import type { FastifyError } from '@fastify/error'
import { withTimeout } from '../deadline.js'
import { CognitoAdminError, CognitoAdminTimeoutError } from '../errors.js'
import type { CognitoAdminClient } from '../options/index.js'

// The command classes come from the host's own @aws-sdk/client-cognito-identity-provider (an optional peer
// dependency): imported on first use, so hosts that use neither feature need not install it.
export type CognitoCommands = typeof import('@aws-sdk/client-cognito-identity-provider')
let commands: Promise<CognitoCommands> | undefined

/** One of our Cognito errors, with the AWS error's name (e.g. UserNotFoundException) to tell causes apart. */
export type CognitoFailure = FastifyError & { awsName?: string }

export class CognitoAdmin {
  constructor (private readonly client: CognitoAdminClient, private readonly timeoutMs: number) {}

  /** Sends the command `build` makes, under the deadline. */
  async send<T> (operation: string, build: (commands: CognitoCommands) => object): Promise<T> {
    const command = build(await (commands ??= import('@aws-sdk/client-cognito-identity-provider')))
    const timedOut = (): Error => new CognitoAdminTimeoutError(operation, this.timeoutMs)
    return await withTimeout(this.timeoutMs, async signal => await (this.client.send(command, { abortSignal: signal }) as Promise<T>), timedOut)
      .catch((err: unknown) => {
        if (err instanceof CognitoAdminTimeoutError) throw err
        const name = err instanceof Error ? err.name : 'Error'
        const failure: CognitoFailure = new CognitoAdminError(operation, name)
        failure.awsName = name
        throw failure
      })
  }
}
