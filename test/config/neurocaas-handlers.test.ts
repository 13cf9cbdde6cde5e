/**
 * NeuroCAAS's submit handlers, every one it shipped in ncap_iac/protocols/submit_start*.py
 * (read across the repository's history), select ncap's submit handler from the
 * seed's and NeuroCAAS's code folders at any depth; where a variant behaved
 * differently a warning says what ncap does. Python post-processing code is
 * deployed on a Python runtime.
 */
import {mkdir, mkdtemp, writeFile} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import test from 'ava'
import {checkPipeline} from '../../src/config/index.js'
import {NEUROCAAS_SUBMIT_HANDLERS} from '../../src/config/rules.js'
import {compilePipeline} from '../../src/template/index.js'

const FILE = '/tmp/ncap-handlers/pipe/stack_config_template.json'

// biome-ignore lint/suspicious/noExplicitAny: raw JSON configs
function config(codeUri: string, handler: string, extra: (c: any) => void = () => {}): unknown {
  // biome-ignore lint/suspicious/noExplicitAny: raw JSON configs
  const c: any = {
    PipelineName: 'handlers',
    REGION: 'us-east-1',
    Lambda: {
      CodeUri: codeUri,
      Handler: handler,
      LambdaConfig: {AMI: 'ami-0123456789abcdef0', INSTANCE_TYPE: 'm5.xlarge', COMMAND: 'bin/run.sh "{}" "{}" "{}" "{}"'},
    },
    UXData: {Affiliates: [{AffiliateName: 'lab', UserNames: ['alice'], ContactEmail: 'lab@example.org'}]},
  }
  extra(c)
  return c
}

const every = [...NEUROCAAS_SUBMIT_HANDLERS.keys()]

test('the table holds every submit handler NeuroCAAS shipped', (t) => {
  t.deepEqual(every.sort(), [
    'submit_start.handler',
    'submit_start.handler_deploy',
    'submit_start.handler_develop',
    'submit_start.handler_ensemble',
    'submit_start.handler_full',
    'submit_start.handler_log',
    'submit_start.handler_log_demo',
    'submit_start.handler_log_dev',
    'submit_start.handler_log_test',
    'submit_start.handler_multisession',
    'submit_start_legacy_wfield_preprocess.handler',
  ])
})

for (const handler of every) {
  for (const codeUri of ['../../protocols', '../lambda_repo', 'lambda_code', '../lambda_code/', '../../../ncap_iac/protocols']) {
    test(`${codeUri} with ${handler} deploys ncap's submit handler`, (t) => {
      const result = checkPipeline(config(codeUri, handler), FILE, {dirExists: () => false})
      t.deepEqual(result.errors, [])
      t.deepEqual(result.pipeline?.submitHandler, {kind: 'ncap', declaredCodeUri: codeUri, declaredHandler: handler})
      const warned = result.warnings.filter((w) => w.path === '$.Lambda.Handler')
      if (NEUROCAAS_SUBMIT_HANDLERS.get(handler)) {
        t.is(warned.length, 1)
        t.regex(warned[0]!.message, /ncap/)
      } else t.is(warned.length, 0)
    })
  }
}

test('a handler outside the submit family in a NeuroCAAS folder is refused by name', (t) => {
  const result = checkPipeline(config('../lambda_repo/locanmf_temp', 'submit.handler'), FILE, {dirExists: () => false})
  t.is(result.pipeline, undefined)
  t.is(result.errors[0]?.path, '$.Lambda.CodeUri')
  t.regex(result.errors[0]!.message, /locanmf_temp/)
})

test('Python post-processing code is deployed on python3.12, Node code on nodejs22.x', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ncap-post-'))
  const pipe = path.join(dir, 'pipe')
  await mkdir(path.join(pipe, 'post_py'), {recursive: true})
  await writeFile(path.join(pipe, 'post_py', 'postprocess.py'), 'def epipostprocess(event, context):\n    return {}\n')
  await mkdir(path.join(pipe, 'post_js'), {recursive: true})
  await writeFile(path.join(pipe, 'post_js', 'index.mjs'), 'export const handler = async () => ({})\n')
  const file = path.join(pipe, 'stack_config_template.json')
  for (const [folder, handler, runtime] of [
    ['post_py', 'postprocess.epipostprocess', 'python3.12'],
    ['post_js', 'index.handler', 'nodejs22.x'],
  ] as const) {
    const result = checkPipeline(
      config('lambda_code', 'submit_start.handler_develop', (c) => {
        c.Lambda.PostCodeUri = folder
        c.Lambda.PostHandler = handler
      }),
      file,
    )
    t.deepEqual(result.errors, [])
    const compiled = compilePipeline(result.pipeline!)
    const fn = compiled.main.Resources.PostProcessFunction as unknown as {Properties: {Runtime: string; Handler: string}}
    t.is(fn.Properties.Runtime, runtime)
    t.is(fn.Properties.Handler, handler)
    t.is((compiled.main.Resources.SubmitFunction as unknown as {Properties: {Runtime: string}}).Properties.Runtime, 'nodejs22.x')
  }
})
