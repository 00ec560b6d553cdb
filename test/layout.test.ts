// The shape of lib/ itself: no import cycle in the plugin (a module's imports, type-only ones too, never lead back to it),
// and one implementation of what several places need (duplicates shows a second one appearing).
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import ts from 'typescript'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const files = ['index.ts', ...readdirSync(join(root, 'lib'), { recursive: true, encoding: 'utf8' }).filter(f => f.endsWith('.ts')).map(f => join('lib', f))]

/** Each module's relative imports (`import`, `import type`, `export … from`), as paths from the root. */
function importsOf (file: string): string[] {
  const { importedFiles } = ts.preProcessFile(readFileSync(join(root, file), 'utf8'), true, true)
  return importedFiles.map(i => i.fileName).filter(name => name.startsWith('.'))
    .map(name => relative(root, resolve(root, dirname(file), name)).replace(/\.js$/, '.ts'))
}

t.test('no import cycle in the plugin (type-only imports count: a cycle of types is a cycle of concerns)', async t => {
  // The emulator (lib/testing/) is a test stand-in with route tables of its own, not checked here.
  const plugin = files.filter(f => !f.startsWith('lib/testing/'))
  const graph = new Map(plugin.map(f => [f, importsOf(f).filter(i => !i.startsWith('lib/testing/'))]))
  const cycles: string[] = []
  const state = new Map<string, 'open' | 'done'>()
  const visit = (file: string, path: string[]): void => {
    if (state.get(file) === 'done') return
    if (state.get(file) === 'open') {
      cycles.push([...path.slice(path.indexOf(file)), file].join(' → '))
      return
    }
    state.set(file, 'open')
    for (const next of graph.get(file) ?? []) visit(next, [...path, file])
    state.set(file, 'done')
  }
  for (const file of plugin) visit(file, [])
  t.same(cycles, [])
})

t.test('one guard for "an object, not null, not an array"', async t => {
  const guard = /\(value: unknown\): value is Record<string, unknown>/
  t.same(files.filter(f => guard.test(readFileSync(join(root, f), 'utf8'))), ['lib/guards.ts'])
})
