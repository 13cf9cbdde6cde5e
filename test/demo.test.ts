/**
 * The README's first command runs the main job: `npm run demo` (bin/demo.sh), end to
 * end on the embedded emulator with the real CLI, AWS CLI and the pipeline's run.sh.
 */
import {spawnSync} from 'node:child_process'
import {join} from 'node:path'
import test from 'ava'
import {repoRoot} from './helpers/cli.js'

test('the demo runs a pipeline end to end on the emulator and checks the results', (t) => {
  const result = spawnSync('bash', [join(repoRoot, 'bin', 'demo.sh')], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 300_000,
    env: {...process.env},
  })
  t.is(result.status, 0, `${result.stdout}\n${result.stderr}`)
  t.regex(result.stdout, /valid \(cfn-lint clean\)|: valid/)
  t.regex(`${result.stdout}${result.stderr}`, /AccessDenied/, 'alice is refused the bucket root')
  t.regex(result.stdout, /"sha256": "[0-9a-f]{64}"/)
  t.regex(result.stdout, /== done: the results hold the dataset's size and sha256/)
})
