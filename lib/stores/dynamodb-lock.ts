// A lock store on DynamoDB through an @aws-sdk/client-dynamodb client: the natural store on AWS Lambda (no
// VPC). A conditional PutItem takes the lock when no item exists or its lease has run out; a conditional
// DeleteItem frees it only while it still holds our token. The table (README, Safety): partition key `pk`
// (String) and DynamoDB TTL on `expiresAt` (epoch seconds), which only sweeps old items: leases are judged
// on `leaseUntil` (epoch ms), so they hold to the millisecond whatever TTL's delay.
import type { DeleteItemCommandInput, PutItemCommandInput } from '@aws-sdk/client-dynamodb'
import { InvalidOptionError } from '../errors.js'
import { checkLease, type LockStore } from './lock-store.js'

/** The part of a DynamoDBClient the store uses. */
export interface DynamoDbLockClient {
  send (command: object, options?: { abortSignal?: AbortSignal }): Promise<unknown>
}

export interface DynamoDbLockOptions {
  client: DynamoDbLockClient
  tableName: string
  /** How long a lock is held at most, in ms. Default: derived from authsignal.timeoutMs (lib/stores/lock-store.ts). */
  leaseMs?: number
}

// The command classes come from the host's own @aws-sdk/client-dynamodb (an optional peer dependency):
// imported on first use, so hosts that do not use this store need not install it.
type Commands = typeof import('@aws-sdk/client-dynamodb')
let commands: Promise<Commands> | undefined

function isConditionFailure (err: unknown): boolean {
  return (err as { name?: unknown } | null)?.name === 'ConditionalCheckFailedException'
}

export function dynamoDbLock (options: DynamoDbLockOptions): LockStore {
  if (typeof options?.client?.send !== 'function') {
    throw new InvalidOptionError('dynamoDbLock({ client })', 'expected a DynamoDBClient from @aws-sdk/client-dynamodb')
  }
  const { client, tableName } = options
  if (typeof tableName !== 'string' || tableName.trim() === '') throw new InvalidOptionError('dynamoDbLock({ tableName })', 'expected a non-empty table name')
  return {
    kind: 'dynamodb',
    leaseMs: checkLease(options.leaseMs, 'dynamoDbLock'),
    async acquire (key, token, leaseMs, signal) {
      const { PutItemCommand } = await (commands ??= import('@aws-sdk/client-dynamodb'))
      const now = Date.now()
      const input: PutItemCommandInput = {
        TableName: tableName,
        Item: {
          pk: { S: key },
          holder: { S: token },
          leaseUntil: { N: String(now + leaseMs) },
          expiresAt: { N: String(Math.ceil((now + leaseMs) / 1000) + 60) }
        },
        ConditionExpression: 'attribute_not_exists(#pk) OR #leaseUntil < :now',
        ExpressionAttributeNames: { '#pk': 'pk', '#leaseUntil': 'leaseUntil' },
        ExpressionAttributeValues: { ':now': { N: String(now) } }
      }
      try {
        await client.send(new PutItemCommand(input), { abortSignal: signal })
        return true
      } catch (err) {
        if (isConditionFailure(err)) return false
        throw err
      }
    },
    async release (key, token, signal) {
      const { DeleteItemCommand } = await (commands ??= import('@aws-sdk/client-dynamodb'))
      const input: DeleteItemCommandInput = {
        TableName: tableName,
        Key: { pk: { S: key } },
        ConditionExpression: '#holder = :token',
        ExpressionAttributeNames: { '#holder': 'holder' },
        ExpressionAttributeValues: { ':token': { S: token } }
      }
      await client.send(new DeleteItemCommand(input), { abortSignal: signal }).catch((err: unknown) => {
        if (!isConditionFailure(err)) throw err
      })
    }
  }
}
