/**
 * `ncap build`, `ncap graph` and `ncap --help` through the real CLI: output files,
 * --json shapes, determinism across runs, and the help that is part of the product.
 */
import {cp, mkdtemp, readdir, readFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import test from 'ava'
import {repoRoot, runCli} from '../helpers/cli.js'

async function seedPipeline(): Promise<string> {
  const dir = join(await mkdtemp(join(tmpdir(), 'ncap-cli-')), 'seed')
  await cp(join(repoRoot, 'test', 'fixtures', 'seed'), dir, {recursive: true})
  return dir
}

test('build --json reports what it wrote; a second build is byte-identical', async (t) => {
  const dir = await seedPipeline()
  const first = await runCli(['build', dir, '--json'])
  t.is(first.code, 0, first.stderr)
  const result = JSON.parse(first.stdout) as {
    pipeline: string
    files: string[]
    resources: number
    nestedStacks: number
    warnings: unknown[]
  }
  t.is(result.pipeline, 'dlcmonitored1')
  t.deepEqual(result.files, [join(dir, 'compiled_template.json')])
  t.is(result.nestedStacks, 0)
  t.true(result.resources > 20)
  t.is(result.warnings.length, 2, 'the seed example warns only about its two placeholder ContactEmails')
  const before = await readFile(join(dir, 'compiled_template.json'), 'utf8')
  t.is((await runCli(['build', dir])).code, 0)
  t.is(await readFile(join(dir, 'compiled_template.json'), 'utf8'), before)
  t.deepEqual((await readdir(dir)).sort(), ['compiled_template.json', 'stack_config_template.json'])
})

test('graph draws every resource as mermaid, dot and svg (to a file)', async (t) => {
  const dir = await seedPipeline()
  const template = JSON.parse((await runCli(['build', dir, '--json'])).stdout) as {files: string[]}
  const resources = Object.keys(JSON.parse(await readFile(template.files[0]!, 'utf8')).Resources as object)
  const mermaid = await runCli(['graph', dir, '--format', 'mermaid'])
  t.is(mermaid.code, 0, mermaid.stderr)
  t.regex(mermaid.stdout, /^flowchart/)
  const dot = await runCli(['graph', dir, '--format', 'dot'])
  t.regex(dot.stdout, /^digraph/)
  for (const id of resources) {
    t.true(mermaid.stdout.includes(id), `mermaid has ${id}`)
    t.true(dot.stdout.includes(id), `dot has ${id}`)
  }
  const out = join(dir, 'stack.svg')
  const svg = await runCli(['graph', dir, '--format', 'svg', '--output', out])
  t.is(svg.code, 0, svg.stderr)
  t.regex(await readFile(out, 'utf8'), /<svg[\s\S]*PipelineBucket[\s\S]*<\/svg>/)
})

test('graph refuses an unknown format with exit 2', async (t) => {
  const result = await runCli(['graph', await seedPipeline(), '--format', 'png'])
  t.is(result.code, 2)
  t.regex(result.stderr, /png/)
})

test('ncap --help lists every command; each command has help with examples', async (t) => {
  const help = await runCli(['--help'])
  t.is(help.code, 0)
  for (const name of ['init', 'build', 'validate', 'graph', 'emulator']) t.regex(help.stdout, new RegExp(`\\b${name}\\b`))
  for (const command of ['init', 'build', 'validate', 'graph', 'emulator start', 'emulator status', 'emulator stop', 'emulator reset']) {
    const result = await runCli([...command.split(' '), '--help'])
    t.is(result.code, 0, command)
    t.regex(result.stdout, /EXAMPLES/, `${command} has examples`)
    t.regex(result.stdout, /--json/, `${command} has --json`)
  }
})
