import test from 'ava'
import {ConfigError, checkPipeline, formatDiagnostic} from '../../src/config/index.js'
import type {Diagnostic} from '../../src/config/model.js'

const FILE = '/tmp/ncap-rules/pipe/stack_config_template.json'
const noDirs = () => false

// biome-ignore lint/suspicious/noExplicitAny: test configs are raw JSON that each test edits freely
type RawJson = any

/** A small valid config; each test breaks or changes one thing. */
function config(change: (c: RawJson) => void = () => {}): RawJson {
  const c: RawJson = {
    PipelineName: 'mypipe',
    REGION: 'us-east-1',
    Lambda: {
      CodeUri: 'lambda_code',
      Handler: 'submit_start.handler',
      LambdaConfig: {AMI: 'ami-0123456789abcdef0', INSTANCE_TYPE: 'm5.xlarge', COMMAND: 'bin/run.sh "{}" "{}" "{}" "{}"'},
    },
    UXData: {Affiliates: [{AffiliateName: 'lab', UserNames: ['alice', 'bob'], ContactEmail: 'lab@example.org'}]},
  }
  change(c)
  return c
}
const check = (c: unknown, options = {}) => checkPipeline(c, FILE, {dirExists: noDirs, ...options})
const at = (ds: Diagnostic[], p: string) => ds.filter((d) => d.path === p)

test('a small config loads with no findings', (t) => {
  const r = check(config())
  t.deepEqual(r.errors, [])
  t.deepEqual(r.warnings, [])
  t.is(r.pipeline?.name, 'mypipe')
  t.is(r.pipeline?.file, FILE)
  t.is(r.pipeline?.dir, '/tmp/ncap-rules/pipe')
})

test("absent keys take NeuroCAAS's defaults", (t) => {
  const p = check(config()).pipeline!
  t.like(p.instance, {
    executionTimeout: 900,
    ssmTimeout: 172000,
    logFile: 'lambda_log.txt',
    deployLimit: 100,
    maxCost: 300,
    monitor: true,
    logDir: 'logs',
    outDir: 'results',
    inDir: 'inputs',
    config: 'config.yaml',
    shutdownBehavior: 'terminate',
    region: 'us-east-1',
    securityGroups: [],
  })
  t.true(p.launch)
  t.true(p.groups[0]!.userInput)
  t.is(p.instance.iamRole, undefined)
})

test('an explicit false stays false (MONITOR, LAUNCH, UserInput)', (t) => {
  const p = check(
    config((c) => {
      c.Lambda.LambdaConfig.MONITOR = false
      c.Lambda.LambdaConfig.LAUNCH = false
      c.UXData.Affiliates[0].UserInput = false
    }),
  ).pipeline!
  t.false(p.instance.monitor)
  t.false(p.launch)
  t.false(p.groups[0]!.userInput)
})

test('Launch and LAUNCH disagreeing: no launch, and a warning naming both', (t) => {
  const r = check(
    config((c) => {
      c.Lambda.Launch = true
      c.Lambda.LambdaConfig.LAUNCH = false
    }),
  )
  t.false(r.pipeline!.launch)
  const w = at(r.warnings, '$.Lambda.Launch')
  t.is(w.length, 1)
  t.regex(w[0]!.message, /Lambda\.Launch.*LAUNCH/)
})

test('a user in two groups is declared once, in both', (t) => {
  const r = check(config((c) => c.UXData.Affiliates.push({AffiliateName: 'Other-Lab', UserNames: ['Alice', 'carol']})))
  t.deepEqual(r.errors, [])
  const alice = r.pipeline!.users.filter((u) => u.name.toLowerCase() === 'alice')
  t.deepEqual(alice, [{name: 'alice', groups: ['lab', 'Other-Lab'], existing: false}])
  t.deepEqual(r.pipeline!.groups[1]!.userNames, ['alice', 'carol'], 'the first spelling is kept')
  t.is(at(r.warnings, '$.UXData.Affiliates[1].UserNames[0]').length, 1)
})

test('a user listed twice in one group, ignoring case, is an error naming both paths', (t) => {
  const r = check(config((c) => c.UXData.Affiliates[0].UserNames.push('ALICE')))
  t.is(r.pipeline, undefined)
  const e = at(r.errors, '$.UXData.Affiliates[0].UserNames[2]')
  t.is(e.length, 1)
  t.regex(e[0]!.message, /\$\.UXData\.Affiliates\[0\]\.UserNames\[0\]/)
})

test('two groups with the same name, ignoring case, is an error', (t) => {
  const r = check(config((c) => c.UXData.Affiliates.push({AffiliateName: 'LAB', UserNames: ['dan']})))
  t.regex(at(r.errors, '$.UXData.Affiliates[1].AffiliateName')[0]?.message ?? '', /declared twice.*Affiliates\[0\]/)
})

test('a misspelt key is an error with a did-you-mean', (t) => {
  const r = check(
    config((c) => {
      c.Lambda.LambdaConfig.COMAND = c.Lambda.LambdaConfig.COMMAND
      delete c.Lambda.LambdaConfig.COMMAND
    }),
  )
  const e = at(r.errors, '$.Lambda.LambdaConfig.COMAND')
  t.is(e.length, 1)
  t.is(e[0]!.suggestion, 'COMMAND')
  t.is(formatDiagnostic(e[0]!).endsWith('$.Lambda.LambdaConfig.COMAND: unknown key; did you mean COMMAND?'), true)
  t.is(at(r.errors, '$.Lambda.LambdaConfig.COMMAND').length, 1, 'and COMMAND is missing')
})

test('an unknown key far from any known key is a warning, and the config loads', (t) => {
  const r = check(
    config((c) => {
      c.Description = 'our pipeline'
      c.Lambda.LambdaConfig.GPU_NOTES = 'x'
    }),
  )
  t.deepEqual(r.errors, [])
  t.truthy(r.pipeline)
  t.is(at(r.warnings, '$.Description')[0]?.rule, 'unknown-key')
  t.is(at(r.warnings, '$.Lambda.LambdaConfig.GPU_NOTES').length, 1)
})

test('a known key at the wrong level says where it belongs', (t) => {
  const r = check(config((c) => (c.INSTANCE_TYPE = 'p3.2xlarge')))
  t.regex(at(r.warnings, '$.INSTANCE_TYPE')[0]?.message ?? '', /belongs in \$\.Lambda\.LambdaConfig/)
})

const bucketCases: [string, RegExp][] = [
  ['MyPipe', /uppercase/],
  ['my_pipe', /underscores/],
  ['192.168.1.1', /IP address/],
  ['a'.repeat(64), /3 to 63/],
  ['ab', /3 to 63/],
  ['-pipe', /start and end/],
  ['my..pipe', /adjacent dots/],
  ['xn--pipe', /xn--/],
  ['sthree-pipe', /sthree-/],
  ['pipe-s3alias', /-s3alias/],
  ['pipe--ol-s3', /--ol-s3/],
]
for (const [name, reason] of bucketCases)
  test(`PipelineName ${JSON.stringify(name.length > 20 ? `${name.slice(0, 8)}…` : name)} breaks the bucket rules`, (t) => {
    const e = at(check(config((c) => (c.PipelineName = name))).errors, '$.PipelineName')
    t.is(e.length, 1)
    t.regex(e[0]!.message, reason)
    t.regex(e[0]!.message, /expected an S3 bucket name/)
  })

test('a valid bucket name that is not a stack name says so', (t) => {
  for (const name of ['1pipe', 'my.pipe']) {
    const e = at(check(config((c) => (c.PipelineName = name))).errors, '$.PipelineName')
    t.is(e.length, 1, name)
    t.regex(e[0]!.message, /valid bucket name but not a stack name/)
  }
})

const slotCases: [number, RegExp][] = [
  [0, /it will not receive the bucket, the data key, the result path and the config key/],
  [1, /it will not receive the data key, the result path and the config key/],
  [2, /it will not receive the result path and the config key/],
  [3, /COMMAND has 3 \{\} slots: it will not receive the config key/],
]
for (const [slots, message] of slotCases)
  test(`COMMAND with ${slots} slots loads with a warning`, (t) => {
    const r = check(config((c) => (c.Lambda.LambdaConfig.COMMAND = `run.sh${' {}'.repeat(slots)}`)))
    t.is(r.pipeline?.instance.commandSlots, slots)
    t.regex(at(r.warnings, '$.Lambda.LambdaConfig.COMMAND')[0]?.message ?? '', message)
  })

test('COMMAND with 4 slots has no warning and 5 is an error naming the count', (t) => {
  t.deepEqual(at(check(config()).warnings, '$.Lambda.LambdaConfig.COMMAND'), [])
  const r = check(config((c) => (c.Lambda.LambdaConfig.COMMAND = 'run.sh {} {} {} {} {}')))
  t.is(r.pipeline, undefined)
  const e = at(r.errors, '$.Lambda.LambdaConfig.COMMAND')
  t.regex(e[0]?.message ?? '', /expected at most four \{\} slots.*found 5/)
  t.is(e[0]?.found, '5')
})

test('a ContactEmail that is not an address is a warning; an address is kept', (t) => {
  const r = check(config((c) => (c.UXData.Affiliates[0].ContactEmail = 'The email we should notify')))
  t.truthy(r.pipeline)
  t.is(at(r.warnings, '$.UXData.Affiliates[0].ContactEmail')[0]?.rule, 'contact-email')
  t.is(r.pipeline!.groups[0]!.contactEmail, undefined)
  t.is(check(config()).pipeline!.groups[0]!.contactEmail, 'lab@example.org')
})

test('numeric strings are read as numbers with a warning naming the field; other strings are refused', (t) => {
  const r = check(
    config((c) => {
      c.Lambda.LambdaConfig.MAXCOST = '300'
      c.Lambda.LambdaConfig.DEPLOY_LIMIT = '20'
    }),
  )
  t.is(r.pipeline!.instance.maxCost, 300)
  t.is(r.pipeline!.instance.deployLimit, 20)
  t.regex(at(r.warnings, '$.Lambda.LambdaConfig.MAXCOST')[0]?.message ?? '', /MAXCOST/)
  const bad = check(config((c) => (c.Lambda.LambdaConfig.SSM_TIMEOUT = 'a day')))
  t.regex(
    at(bad.errors, '$.Lambda.LambdaConfig.SSM_TIMEOUT')[0]?.message ?? '',
    /expected .*positive whole number.*found a string \("a day"\)/,
  )
})

test('timeouts past what Lambda and SSM allow, and non-positive numbers, are errors', (t) => {
  const r = check(
    config((c) => {
      c.Lambda.LambdaConfig.EXECUTION_TIMEOUT = 1800
      c.Lambda.LambdaConfig.SSM_TIMEOUT = 200000
      c.Lambda.LambdaConfig.MAXCOST = 0
    }),
  )
  t.regex(at(r.errors, '$.Lambda.LambdaConfig.EXECUTION_TIMEOUT')[0]?.message ?? '', /at most 900.*found 1800/)
  t.regex(at(r.errors, '$.Lambda.LambdaConfig.SSM_TIMEOUT')[0]?.message ?? '', /at most 172800/)
  t.is(at(r.errors, '$.Lambda.LambdaConfig.MAXCOST').length, 1)
})

test('group names with a space or a slash are refused; uppercase is fine', (t) => {
  const r = check(
    config((c) => {
      c.UXData.Affiliates[0].AffiliateName = 'my lab'
      c.UXData.Affiliates.push({AffiliateName: 'a/b', UserNames: ['x']}, {AffiliateName: 'BigLab', UserNames: ['y']})
    }),
  )
  t.regex(at(r.errors, '$.UXData.Affiliates[0].AffiliateName')[0]?.message ?? '', /spaces/)
  t.regex(at(r.errors, '$.UXData.Affiliates[1].AffiliateName')[0]?.message ?? '', /must not contain \//)
  t.deepEqual(at(r.errors, '$.UXData.Affiliates[2].AffiliateName'), [])
})

test('user names follow IAM: e-mail addresses are valid, spaces and 65 characters are not', (t) => {
  const r = check(config((c) => (c.UXData.Affiliates[0].UserNames = ['a.b+c@uni.edu', 'no space', 'u'.repeat(65)])))
  t.deepEqual(at(r.errors, '$.UXData.Affiliates[0].UserNames[0]'), [])
  t.is(at(r.errors, '$.UXData.Affiliates[0].UserNames[1]').length, 1)
  t.regex(at(r.errors, '$.UXData.Affiliates[0].UserNames[2]')[0]?.message ?? '', /1-64/)
})

test('at least one affiliate, each with at least one user', (t) => {
  t.is(at(check(config((c) => (c.UXData.Affiliates = []))).errors, '$.UXData.Affiliates').length, 1)
  t.is(at(check(config((c) => (c.UXData.Affiliates[0].UserNames = []))).errors, '$.UXData.Affiliates[0].UserNames').length, 1)
})

test('AMI, INSTANCE_TYPE, REGION, SHUTDOWN_BEHAVIOR and STAGE shapes', (t) => {
  const good = check(
    config((c) => {
      c.Lambda.LambdaConfig.AMI = 'ami-0123abcd'
      c.Lambda.LambdaConfig.INSTANCE_TYPE = 'p3.2xlarge'
      c.REGION = 'ap-southeast-2'
      c.Lambda.LambdaConfig.REGION = 'ap-southeast-2'
      c.STAGE = 'webdev'
    }),
  )
  t.deepEqual(good.errors, [])
  t.is(good.pipeline!.stage, 'webdev')
  const bad = check(
    config((c) => {
      c.Lambda.LambdaConfig.AMI = 'ami-123'
      c.Lambda.LambdaConfig.INSTANCE_TYPE = 'large'
      c.REGION = 'US East'
      c.Lambda.LambdaConfig.SHUTDOWN_BEHAVIOR = 'hibernate'
      c.STAGE = 'prod'
      c.Lambda.LambdaConfig.MONITOR = 'yes'
    }),
  )
  for (const p of ['AMI', 'INSTANCE_TYPE', 'SHUTDOWN_BEHAVIOR', 'MONITOR']) t.is(at(bad.errors, `$.Lambda.LambdaConfig.${p}`).length, 1, p)
  t.is(at(bad.errors, '$.REGION').length, 1)
  t.regex(at(bad.errors, '$.STAGE')[0]?.message ?? '', /develop, webdev or websubstack.*"prod"/)
})

test('STAGE websubstack loads with a warning naming the stage', (t) => {
  const r = check(config((c) => (c.STAGE = 'websubstack')))
  t.is(r.pipeline?.stage, 'websubstack')
  t.regex(at(r.warnings, '$.STAGE')[0]?.message ?? '', /websubstack/)
})

test('LOGDIR/OUTDIR/INDIR must be distinct single folder names', (t) => {
  const r = check(
    config((c) => {
      c.Lambda.LambdaConfig.OUTDIR = 'out/put'
      c.Lambda.LambdaConfig.INDIR = 'logs'
    }),
  )
  t.is(at(r.errors, '$.Lambda.LambdaConfig.OUTDIR').length, 1)
  t.regex(at(r.errors, '$.Lambda.LambdaConfig.INDIR')[0]?.message ?? '', /distinct from LOGDIR/)
  t.is(at(check(config((c) => (c.Lambda.LambdaConfig.INDIR = '..'))).errors, '$.Lambda.LambdaConfig.INDIR').length, 1)
})

test('Ncap.ExistingUsers are existing: true; the others are created', (t) => {
  const r = check(config((c) => (c.Ncap = {ExistingUsers: ['Bob', 'zed']})))
  t.deepEqual(
    r.pipeline!.users.map((u) => [u.name, u.existing]),
    [
      ['alice', false],
      ['bob', true],
    ],
  )
  t.regex(at(r.warnings, '$.Ncap.ExistingUsers[1]')[0]?.message ?? '', /"zed" is in no group/)
})

test('post-processing: a handler without code (or code without a handler) is an error', (t) => {
  t.is(at(check(config((c) => (c.Lambda.PostHandler = 'post.handler'))).errors, '$.Lambda.PostHandler').length, 1)
  t.is(at(check(config((c) => (c.Lambda.PostCodeUri = 'post'))).errors, '$.Lambda.PostCodeUri').length, 1)
})

test('the submit handler: NeuroCAAS names select ncap, a folder beside the config is custom, anything else is an error', (t) => {
  const ncap = check(
    config((c) => {
      c.Lambda.CodeUri = '../../protocols'
      c.Lambda.Handler = 'submit_start.handler_log'
    }),
  )
  t.deepEqual(ncap.pipeline!.submitHandler, {kind: 'ncap', declaredCodeUri: '../../protocols', declaredHandler: 'submit_start.handler_log'})
  const custom = check(
    config((c) => {
      c.Lambda.CodeUri = 'my_handler'
      c.Lambda.Handler = 'index.handler'
    }),
    {dirExists: (p: string) => p === '/tmp/ncap-rules/pipe/my_handler'},
  )
  t.deepEqual(custom.pipeline!.submitHandler, {kind: 'custom', codeDir: '/tmp/ncap-rules/pipe/my_handler', handler: 'index.handler'})
  const missing = check(config((c) => (c.Lambda.CodeUri = 'nowhere')))
  t.regex(at(missing.errors, '$.Lambda.CodeUri')[0]?.message ?? '', /nowhere/)
  const unknownHandler = check(config((c) => (c.Lambda.Handler = 'other.handler')))
  t.is(at(unknownHandler.errors, '$.Lambda.CodeUri').length, 1)
})

test('checkPipeline never throws for bad input', (t) => {
  for (const bad of [null, 42, 'text', [], {Lambda: 'x', UXData: {Affiliates: [null, 3, {UserNames: [1, null]}]}}]) {
    const r = check(bad)
    t.true(r.errors.length > 0, JSON.stringify(bad))
    t.is(r.pipeline, undefined)
  }
})

test('every error names file, path, expected and found, and ConfigError lists all of them', (t) => {
  const r = check(
    config((c) => {
      c.PipelineName = 'Bad_Name'
      c.Lambda.LambdaConfig.AMI = 'your ami'
    }),
  )
  t.is(r.errors.length, 2)
  for (const e of r.errors) {
    t.is(e.file, FILE)
    t.truthy(e.expected)
    t.truthy(e.found)
  }
  const error = new ConfigError(r.errors)
  t.is(error.exitCode, 2)
  t.deepEqual(error.message.split('\n'), r.errors.map(formatDiagnostic))
})

test('property: checkPipeline never throws and never returns a pipeline beside errors, for any JSON', async (t) => {
  const fc = await import('fast-check')
  const mutated = fc.record({path: fc.constantFrom('PipelineName', 'REGION', 'Lambda', 'UXData', 'STAGE', 'Ncap'), value: fc.jsonValue()})
  fc.assert(
    fc.property(
      fc.oneof(
        fc.jsonValue(),
        mutated.map(({path, value}) => config((c) => (c[path] = value))),
      ),
      (raw) => {
        const r = check(raw)
        return r.pipeline === undefined ? r.errors.length > 0 : r.errors.length === 0
      },
    ),
    {numRuns: 300},
  )
  t.pass()
})
