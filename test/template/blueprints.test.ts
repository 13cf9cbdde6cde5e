import {copyFile, mkdir, mkdtemp} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import test from 'ava'
import {loadPipeline} from '../../src/config/index.js'
import {compilePipeline, writeCompiled} from '../../src/template/index.js'
import {sharedDir} from '../helpers/cli.js'
import {cfnLint, unexpected} from './cfn-lint.js'

const BLUEPRINTS = join(sharedDir, 'fixtures', 'neurocaas-blueprints')
/** The real NeuroCAAS blueprints that build (the others are refused by the config loader). */
const BUILDS = ['dlc_web_stack', 'caiman_dev_stack', 'label-job-create', 'sam_dlc_stack', 'radical', 'epi_web_stack']
const WITH_POST_PROCESSING = ['dlc_web_stack', 'caiman_dev_stack', 'label-job-create', 'epi_web_stack']

test('the real NeuroCAAS blueprints that build compile into templates cfn-lint passes', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'ncap-blueprints-'))
  const files: string[] = []
  for (const name of BUILDS) {
    const dir = join(root, name)
    await mkdir(dir)
    await copyFile(join(BLUEPRINTS, `${name}.json`), join(dir, 'stack_config_template.json'))
    const {pipeline} = await loadPipeline(dir, {workspaceDir: false})
    const compiled = compilePipeline(pipeline)
    // Their post-processing code lives in NeuroCAAS's repository, not beside the config.
    if (WITH_POST_PROCESSING.includes(name))
      t.true(
        compiled.notes.some((n) => n.startsWith('post-processing function left out')),
        name,
      )
    t.false('PostProcessFunction' in compiled.main.Resources, name)
    files.push(...(await writeCompiled(dir, compiled)))
  }
  t.deepEqual(unexpected(await cfnLint(files, 2)), [])
})
