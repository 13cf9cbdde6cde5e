/**
 * The README's first command runs the main job: `npm run demo` (bin/demo.sh →
 * `ncap demo`), a real analysis end to end on the embedded emulator, on a PATH
 * with no AWS CLI at all (every program of /usr/bin and /bin but `aws`, and no
 * pyenv), so the instances use ncap's own stand-in for `aws s3`.
 */
import {spawnSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, readdirSync, symlinkSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import test from 'ava'
import {repoRoot} from './helpers/cli.js'

function pathWithoutAws(): string {
  const bin = join(mkdtempSync(join(tmpdir(), 'ncap-noaws-')), 'bin')
  mkdirSync(bin)
  for (const dir of ['/usr/local/bin', '/usr/bin', '/bin']) {
    let names: string[] = []
    try {
      names = readdirSync(dir)
    } catch {
      continue
    }
    for (const name of names) {
      if (name === 'aws' || name.startsWith('aws_')) continue
      try {
        symlinkSync(join(dir, name), join(bin, name))
      } catch {
        // Already linked from an earlier folder on the PATH.
      }
    }
  }
  return bin
}

test('npm run demo: a video analyzed end to end on the emulator, with no AWS CLI on the PATH', (t) => {
  const PATH = pathWithoutAws()
  t.is(spawnSync('bash', ['-c', 'command -v aws'], {env: {PATH}}).status, 1, 'no aws on this PATH')
  const result = spawnSync('bash', [join(repoRoot, 'bin', 'demo.sh')], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 600_000,
    env: {...process.env, PATH, CI: 'true'},
  })
  t.is(result.status, 0, `${result.stdout}\n${result.stderr}`)
  t.regex(result.stdout, /The job job__ncap-demo_\S+ succeeded/)
  t.regex(result.stdout, /mouse_motion_energy\.csv/)
  t.regex(result.stdout, /frame,time_s,motion_energy/)
  t.regex(result.stdout, /Motion energy, 89 frame pairs/)
  t.regex(`${result.stdout}${result.stderr}`, /ncap destroy: remove the stack/)
})
