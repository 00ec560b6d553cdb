// A lock store on DynamoDB through an @aws-sdk/client-dynamodb client: the natural store on AWS Lambda (no
// VPC). A conditional PutItem takes the lock when no item exists or its lease has run out; a conditional
// DeleteItem frees it only while it still holds our token. The table (README, Safety): partition key `pk`
// (String) and DynamoDB TTL on `expiresAt` (epoch seconds), which only sweeps old items: leases are judged
// on `leaseUntil` (epoch ms), so they hold to the millisecond whatever TTL's delay. A conditional UpdateItem
// extends a lease only while it still holds our token and has not run out.
import type { DeleteItemCommandInput, PutItemCommandInput, UpdateItemCommandInput } from '@aws-sdk/client-dynamodb'
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

/** A conditional write: true when written, false when its condition did not hold. */
async function conditionally (write: Promise<unknown>): Promise<boolean> {
  try {
    await write
    return true
  } catch (err) {
    if (isConditionFailure(err)) return false
    throw err
  }
}

/** TTL's sweep time (epoch seconds) for a lease ending at `until`: a minute after it. */
function sweepAfter (until: number): string {
  return String(Math.ceil(until / 1000) + 60)
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
          expiresAt: { N: sweepAfter(now + leaseMs) }
        },
        ConditionExpression: 'attribute_not_exists(#pk) OR #leaseUntil < :now',
        ExpressionAttributeNames: { '#pk': 'pk', '#leaseUntil': 'leaseUntil' },
        ExpressionAttributeValues: { ':now': { N: String(now) } }
      }
      return await conditionally(client.send(new PutItemCommand(input), { abortSignal: signal }))
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
      await conditionally(client.send(new DeleteItemCommand(input), { abortSignal: signal }))
    },
    async extend (key, token, leaseMs, signal) {
      const { UpdateItemCommand } = await (commands ??= import('@aws-sdk/client-dynamodb'))
      const now = Date.now()
      const input: UpdateItemCommandInput = {
        TableName: tableName,
        Key: { pk: { S: key } },
        UpdateExpression: 'SET #leaseUntil = :until, #expiresAt = :expires',
        ConditionExpression: '#holder = :token AND #leaseUntil > :now',
        ExpressionAttributeNames: { '#holder': 'holder', '#leaseUntil': 'leaseUntil', '#expiresAt': 'expiresAt' },
        ExpressionAttributeValues: {
          ':token': { S: token },
          ':now': { N: String(now) },
          ':until': { N: String(now + leaseMs) },
          ':expires': { N: sweepAfter(now + leaseMs) }
        }
      }
      return await conditionally(client.send(new UpdateItemCommand(input), { abortSignal: signal }))
    }
  }
}
