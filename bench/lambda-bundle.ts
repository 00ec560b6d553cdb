// Row 9's bundles, built as AWS SAM builds a function with `Metadata: { BuildMethod: esbuild }` (aws-lambda-builders
// runs esbuild with --bundle --platform=node --format=cjs --minify by default; README, "Deploying with SAM"):
// examples/lambda.ts with everything it imports, and the cold-start runner, which then runs under plain node.
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

export interface LambdaBundle { dir: string, handler: string, runner: string, bytes: number, close: () => Promise<void> }

const source = (file: string): string => fileURLToPath(new URL(file, import.meta.url))

export async function bundleLambda (): Promise<LambdaBundle> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-lambda-'))
  const sam = { bundle: true, platform: 'node', format: 'cjs', minify: true, target: `node${process.versions.node.split('.')[0]}`, logLevel: 'error' } as const
  const handler = join(dir, 'lambda.cjs')
  const runner = join(dir, 'lambda-cold.cjs')
  await build({ ...sam, entryPoints: [source('../examples/lambda.ts')], outfile: handler })
  // The runner loads the handler at run time (not bundled into it): its import is what row 9i times.
  await build({ ...sam, entryPoints: [source('./lambda-cold.ts')], outfile: runner, minify: false })
  return { dir, handler, runner, bytes: (await stat(handler)).size, close: async () => await rm(dir, { recursive: true, force: true }) }
}
