/**
 * What oclif users expect of a CLI: a mistyped command says which one was meant
 * (on a terminal or not) and exits 2, and shell completion is generated from the
 * commands ncap really has.
 */
import {execFileSync} from 'node:child_process'
import {existsSync, mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import test from 'ava'
import {closestCommand} from '../../src/ui/suggest-command.js'
import {runCli} from '../helpers/cli.js'

test('a mistyped command suggests the nearest one and exits 2', async (t) => {
  const result = await runCli(['buidl'])
  t.is(result.code, 2)
  t.regex(result.stderr, /"buidl" is not an ncap command/)
  t.regex(result.stderr, /Did you mean: ncap build\?/)
})

test('a mistyped subcommand of a topic suggests the subcommand', async (t) => {
  const result = await runCli(['emulator', 'strat'])
  t.is(result.code, 2)
  t.regex(result.stderr, /Did you mean: ncap emulator start\?/)
})

test('a word near no command gets no suggestion, only the way to the list', async (t) => {
  const result = await runCli(['photosynthesis'])
  t.is(result.code, 2)
  t.notRegex(result.stderr, /Did you mean/)
  t.regex(result.stderr, /ncap --help/)
})

test('closestCommand: typos within two edits, never a far word', (t) => {
  const ids = ['build', 'validate', 'graph', 'init', 'emulator:start', 'emulator:stop']
  t.is(closestCommand('biuld', ids), 'build')
  t.is(closestCommand('valdiate', ids), 'validate')
  t.is(closestCommand('emulator:stpo', ids), 'emulator:stop')
  t.is(closestCommand('xyz', ids), undefined)
})

test('bash completion is generated from the real commands and completes a prefix', async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'ncap-complete-'))
  const result = await runCli(['autocomplete', 'bash'], {env: {HOME: home, XDG_CACHE_HOME: join(home, '.cache')}})
  t.is(result.code, 0, result.stderr)
  t.regex(result.stdout, /ncap autocomplete script bash/)
  const script = join(home, '.cache', 'ncap', 'autocomplete', 'functions', 'bash', 'ncap.bash')
  t.true(existsSync(script), 'the completion function is written to the cache')
  // Drive the completion function as bash would on `ncap bu<TAB>` and `ncap emulator st<TAB>`.
  const complete = (words: string[]) =>
    execFileSync(
      'bash',
      [
        '-c',
        `source "${script}"; COMP_WORDS=(${words.map((w) => `"${w}"`).join(' ')}); COMP_CWORD=${words.length - 1}; _ncap_autocomplete; echo "\${COMPREPLY[*]}"`,
      ],
      {encoding: 'utf8'},
    ).trim()
  t.is(complete(['ncap', 'bu']), 'build')
  t.deepEqual(complete(['ncap', 'emulator', 'st']).split(/\s+/).sort(), ['start', 'status', 'stop'])
})
