// dynalite (a local DynamoDB API) in its own process, with the lock table the README documents.
import { LOCK_TABLE, listenDynalite } from '../test/fixtures/dynamodb.js'
import { serveParent } from './ipc.js'

const { server, port } = await listenDynalite()
serveParent({ endpoint: `http://127.0.0.1:${port}`, tableName: LOCK_TABLE }, {}, async () => { await new Promise<void>(resolve => server.close(() => resolve())) })
