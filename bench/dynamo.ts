// dynalite (a local DynamoDB API) in its own process, with the lock table the README documents.
import type { AddressInfo } from 'node:net'
import { CreateTableCommand, DynamoDBClient, waitUntilTableExists } from '@aws-sdk/client-dynamodb'
import dynalite from 'dynalite'
import { serveParent } from './ipc.js'

const tableName = 'authenticator-locks'
const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 })
await new Promise<void>(resolve => server.listen(0, '127.0.0.1', () => resolve()))
const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
const admin = new DynamoDBClient({ endpoint, region: 'eu-west-1', credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } })
await admin.send(new CreateTableCommand({
  TableName: tableName,
  KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
  AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
  BillingMode: 'PAY_PER_REQUEST'
}))
await waitUntilTableExists({ client: admin, maxWaitTime: 30 }, { TableName: tableName })
admin.destroy()
serveParent({ endpoint, tableName }, {}, async () => { await new Promise<void>(resolve => server.close(() => resolve())) })
