// The shared lock stores for the benchmark's removal rows: Debian's redis-server (a child process, on a free
// port, no persistence) and dynalite in its own child, so neither shares an event loop with the load generator.
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createServer } from 'node:net'
import { spawnChild, type Child } from './ipc.js'

export type LockKind = { kind: 'memory' } | { kind: 'redis', url: string } | { kind: 'dynamodb', endpoint: string, tableName: string }

export interface Stores {
  redis: LockKind | { unavailable: string }
  dynamodb: LockKind | { unavailable: string }
  close (): Promise<void>
}

async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise(resolve => server.close(resolve))
  return port
}

async function startRedis (): Promise<{ url: string, child: ChildProcess }> {
  const port = await freePort()
  const child = spawn('/usr/bin/redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'inherit'] })
  await new Promise<void>((resolve, reject) => {
    let out = ''
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      if (out.includes('Ready to accept connections')) resolve()
    })
    child.once('exit', (code) => reject(new Error(`redis-server exited (${code})`)))
  })
  return { url: `redis://127.0.0.1:${port}`, child }
}

export async function startStores (): Promise<Stores> {
  let redisChild: ChildProcess | undefined
  let dynamoChild: Child<{ endpoint: string, tableName: string }> | undefined
  let redis: Stores['redis'] = { unavailable: 'redis-server is not installed (apt-get install redis-server)' }
  if (existsSync('/usr/bin/redis-server')) {
    const started = await startRedis()
    redisChild = started.child
    redis = { kind: 'redis', url: started.url }
  }
  let dynamodb: Stores['dynamodb']
  try {
    dynamoChild = await spawnChild<{ endpoint: string, tableName: string }>('./dynamo.ts')
    dynamodb = { kind: 'dynamodb', ...dynamoChild.ready }
  } catch (err) {
    dynamodb = { unavailable: (err as Error).message }
  }
  return {
    redis,
    dynamodb,
    async close () {
      redisChild?.kill('SIGKILL')
      await dynamoChild?.close()
    }
  }
}
