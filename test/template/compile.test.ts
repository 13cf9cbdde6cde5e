// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${...} here is CloudFormation Fn::Sub syntax, not a JS template
import {readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import test from 'ava'
import {loadPipeline} from '../../src/config/index.js'
import type {Pipeline} from '../../src/config/model.js'
import {type CompiledStack, compilePipeline, type Resource, serializeTemplate, type Template} from '../../src/template/index.js'
import {repoRoot} from '../helpers/cli.js'
import {cfnLint, unexpected, writeToTemp} from './cfn-lint.js'
import {everyFeaturePipeline, seedPipeline} from './pipelines.js'

/** A resource's properties, {} when it has none. */
const props = (resource: Resource): Record<string, unknown> => resource.Properties ?? {}

const SEED_CONFIG = join(repoRoot, 'test', 'fixtures', 'seed', 'stack_config_template.json')
const GOLDEN = join(repoRoot, 'test', 'golden', 'seed', 'compiled_template.json')

function ofType(template: Template, type: string): [string, Resource][] {
  return Object.entries(template.Resources).filter(([, r]) => r.Type === type)
}

function submitEnv(template: Template): Record<string, unknown> {
  const properties = template.Resources.SubmitFunction?.Properties ?? {}
  return (properties.Environment as {Variables: Record<string, unknown>}).Variables
}

function variants(): Record<string, Pipeline> {
  const every = everyFeaturePipeline()
  const seed = seedPipeline()
  return {
    seed,
    every,
    noMonitor: {...every, name: 'no-monitor', instance: {...every.instance, monitor: false}},
    postWithoutCode: {...seed, name: 'post-missing', postProcess: {handler: 'p.handler', declaredCodeUri: '../../protocols'}},
    postEveryObject: {
      ...seed,
      name: 'post-every-object',
      postProcess: {handler: 'p.handler', codeDir: `${seed.dir}/post`, declaredCodeUri: 'post'},
    },
    sgIds: {
      ...seed,
      name: 'sg-ids',
      instance: {...seed.instance, securityGroups: ['sg-0123456789abcdef0', 'sg-0fedcba9876543210'], keyName: undefined},
    },
  }
}

test('the seed, every feature and their variants pass cfn-lint with no errors', async (t) => {
  const files: string[] = []
  const {pipeline: loaded} = await loadPipeline(SEED_CONFIG, {workspaceDir: false})
  for (const [label, pipeline] of [...Object.entries(variants()), ['loaded-seed', loaded] as const]) {
    files.push(...(await writeToTemp(compilePipeline(pipeline), `ncap-${label}-`)))
  }
  const findings = await cfnLint(files, 2)
  t.deepEqual(unexpected(findings), [])
})

test('golden: the seed example compiles byte for byte to test/golden/seed/compiled_template.json', async (t) => {
  const {pipeline} = await loadPipeline(SEED_CONFIG, {workspaceDir: false})
  const text = serializeTemplate(compilePipeline(pipeline).main)
  if (process.env.UPDATE_GOLDEN === '1') await writeFile(GOLDEN, text)
  t.is(text, await readFile(GOLDEN, 'utf8'))
  // The hand-built seed Pipeline (other tests use it) compiles to the same bytes.
  t.is(serializeTemplate(compilePipeline(seedPipeline('/elsewhere')).main), text)
})

test('compiling is deterministic and pure', (t) => {
  const pipeline = everyFeaturePipeline()
  const before = JSON.stringify(pipeline)
  const a = compilePipeline(pipeline)
  const b = compilePipeline(structuredClone(pipeline))
  t.is(serializeTemplate(a.main), serializeTemplate(b.main))
  t.is(JSON.stringify(pipeline), before)
  t.true(serializeTemplate(a.main).endsWith('}\n'))
  t.deepEqual(a.nested, {})
})

test('group policies grant only the own prefixes, each ARN a separate string', (t) => {
  const {main} = compilePipeline(everyFeaturePipeline())
  const groups = ofType(main, 'AWS::IAM::Group')
  t.deepEqual(
    groups.map(([id, g]) => [id, g.Properties?.GroupName]),
    [
      ['GroupLabA', 'every-feature.pipeline-Lab-A'],
      ['GroupLabB', 'every-feature.pipeline-lab_b'],
      ['GroupChained', 'every-feature.pipeline-chained'],
    ],
  )
  const policy = (props(groups[0]![1]).Policies as {PolicyDocument: {Statement: Record<string, unknown>[]}}[])[0]!.PolicyDocument
  const arn = (path: string) => ({'Fn::Sub': `arn:\${AWS::Partition}:s3:::\${PipelineBucket}${path}`})
  t.deepEqual(policy.Statement, [
    {
      Sid: 'PutOwnUploads',
      Effect: 'Allow',
      Action: ['s3:PutObject', 's3:AbortMultipartUpload'],
      Resource: [arn('/Lab-A/inputs/*'), arn('/Lab-A/configs/*'), arn('/Lab-A/submissions/*')],
    },
    {Sid: 'GetOwnResults', Effect: 'Allow', Action: 's3:GetObject', Resource: [arn('/Lab-A/results/*'), arn('/Lab-A/configs/*')]},
    {
      Sid: 'ListOwnPrefix',
      Effect: 'Allow',
      Action: 's3:ListBucket',
      Resource: arn(''),
      Condition: {StringLike: {'s3:prefix': ['Lab-A/*', 'Lab-A/']}},
    },
    {
      Sid: 'ChangeOwnPassword',
      Effect: 'Allow',
      Action: 'iam:ChangePassword',
      Resource: {'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:user/${!aws:username}'},
    },
    {Sid: 'ReadPasswordPolicy', Effect: 'Allow', Action: 'iam:GetAccountPasswordPolicy', Resource: '*'},
  ])
  // No group's policy names another group's folder.
  for (const [, group] of groups) {
    const own = String(group.Properties?.GroupName).replace('every-feature.pipeline-', '')
    const text = JSON.stringify(group.Properties?.Policies)
    for (const other of ['Lab-A', 'lab_b', 'chained'].filter((g) => g !== own))
      t.false(text.includes(`${other}/`), `${own} mentions ${other}`)
  }
})

test('users: login profile from a generated secret, access key into a secret, only secret ARNs in Outputs', (t) => {
  const {main} = compilePipeline(everyFeaturePipeline())
  const alice = main.Resources.UserAlice!
  t.is(alice.Type, 'AWS::IAM::User')
  t.deepEqual(alice.Properties?.LoginProfile, {
    Password: {'Fn::Sub': '{{resolve:secretsmanager:${UserAlicePasswordSecret}:SecretString:password}}'},
    PasswordResetRequired: true,
  })
  t.deepEqual(main.Resources.UserAlicePasswordSecret?.Properties?.GenerateSecretString, {
    SecretStringTemplate: '{"username":"alice"}',
    GenerateStringKey: 'password',
    PasswordLength: 24,
    ExcludeCharacters: '"\'`\\/@$&|;<>(){}[]*?!#%^~,:= ',
    RequireEachIncludedType: true,
  })
  t.deepEqual(main.Resources.UserAliceAccessKeySecret?.Properties?.SecretString, {
    'Fn::Sub': '{"accessKeyId":"${UserAliceAccessKey}","secretAccessKey":"${UserAliceAccessKey.SecretAccessKey}"}',
  })
  const outputs = main.Outputs ?? {}
  t.deepEqual(outputs.UserAlicePasswordSecretArn?.Value, {Ref: 'UserAlicePasswordSecret'})
  t.deepEqual(outputs.UserAliceAccessKeySecretArn?.Value, {Ref: 'UserAliceAccessKeySecret'})
  const outputText = JSON.stringify(outputs)
  t.false(outputText.includes('SecretAccessKey'))
  for (const output of Object.values(outputs)) {
    const refTo = (output.Value as {Ref?: string}).Ref
    if (refTo !== undefined) t.not(main.Resources[refTo]?.Type, 'AWS::IAM::AccessKey', 'an access key id is a credential too')
    const att = (output.Value as {'Fn::GetAtt'?: string[]})['Fn::GetAtt']
    if (att) t.not(att[1], 'SecretAccessKey')
  }
  t.deepEqual(Object.keys(outputs).sort(), [
    'BucketName',
    'MonitorFunctionArn',
    'PostProcessFunctionArn',
    'SubmitFunctionArn',
    ...['Alice', 'Bob', 'Carol', 'Dave', 'SharedUser'].flatMap((u) => [`User${u}AccessKeySecretArn`, `User${u}PasswordSecretArn`]),
  ])
})

test('a user in two groups is created once and added to both; existing users are only added', (t) => {
  const {main} = compilePipeline(everyFeaturePipeline())
  const users = ofType(main, 'AWS::IAM::User')
  t.deepEqual(
    users.map(([, u]) => u.Properties?.UserName),
    ['alice', 'bob', 'Shared.User', 'carol', 'dave'],
  )
  t.deepEqual(main.Resources.UserSharedUser?.Properties?.Groups, [{Ref: 'GroupLabA'}, {Ref: 'GroupLabB'}])
  t.deepEqual(ofType(main, 'AWS::IAM::UserToGroupAddition'), [
    ['GroupLabBExistingUsers', {Type: 'AWS::IAM::UserToGroupAddition', Properties: {GroupName: {Ref: 'GroupLabB'}, Users: ['old-timer']}}],
  ])
  t.false(JSON.stringify(ofType(main, 'AWS::IAM::AccessKey')).includes('old-timer'))
})

test('notifications: submissions per group, results for chained groups, post-processing by PostTrigger', (t) => {
  const {main} = compilePipeline(everyFeaturePipeline())
  const bucket = main.Resources.PipelineBucket!
  const rules = (props(bucket).NotificationConfiguration as {LambdaConfigurations: Record<string, unknown>[]}).LambdaConfigurations
  const summary = rules.map((r) => [
    r.Event,
    (r.Filter as {S3Key: {Rules: {Name: string; Value: string}[]}}).S3Key.Rules.map((x) => `${x.Name}=${x.Value}`).join(' '),
    (r.Function as {'Fn::GetAtt': string[]})['Fn::GetAtt'][0],
  ])
  t.deepEqual(summary, [
    ['s3:ObjectCreated:*', 'prefix=Lab-A/submissions/ suffix=submit.json', 'SubmitFunction'],
    ['s3:ObjectCreated:*', 'prefix=lab_b/submissions/ suffix=submit.json', 'SubmitFunction'],
    ['s3:ObjectCreated:*', 'prefix=chained/results/ suffix=submit.json', 'SubmitFunction'],
    ['s3:ObjectCreated:*', 'prefix=Lab-A/results/ suffix=end.txt', 'PostProcessFunction'],
    ['s3:ObjectCreated:*', 'prefix=lab_b/results/ suffix=end.txt', 'PostProcessFunction'],
    ['s3:ObjectCreated:*', 'prefix=chained/results/ suffix=end.txt', 'PostProcessFunction'],
  ])
  // The bucket waits for the permissions, whose SourceArn is the literal bucket ARN (no cycle).
  t.deepEqual(bucket.DependsOn, ['SubmitInvokePermission', 'PostProcessInvokePermission'])
  t.is(main.Resources.SubmitInvokePermission?.Properties?.SourceArn, 'arn:aws:s3:::every-feature.pipeline')
  t.deepEqual(main.Resources.SubmitInvokePermission?.Properties?.SourceAccount, {Ref: 'AWS::AccountId'})
})

test('overlapping notifications are refused, naming the settings', (t) => {
  const every = everyFeaturePipeline()
  const overlapping = {...every, postProcess: {...every.postProcess!, trigger: undefined}}
  const error = t.throws(() => compilePipeline(overlapping))
  t.regex(error.message, /chained\/results\/.*can match the same object/)
  t.regex(error.message, /no PostTrigger/)
  // A trigger that itself ends in submit.json overlaps too.
  t.throws(() => compilePipeline({...every, postProcess: {...every.postProcess!, trigger: 'final_submit.json'}}), {
    message: /S3 would refuse/,
  })
  // Without a chained group, post-processing every object under results is fine.
  const seed = seedPipeline()
  t.notThrows(() => compilePipeline({...seed, postProcess: {handler: 'p.h', codeDir: `${seed.dir}/post`, declaredCodeUri: 'post'}}))
})

test('account resources named by the config are referenced, otherwise created', (t) => {
  const referenced = compilePipeline(seedPipeline()).main
  for (const id of ['InstanceRole', 'InstanceProfile', 'InstanceSecurityGroup']) t.false(id in referenced.Resources)
  const env = submitEnv(referenced)
  t.is(env.INSTANCE_PROFILE, 'pmd-s3-ssm')
  t.is(env.SECURITY_GROUPS, 'launch-wizard-34')
  t.is(env.KEY_NAME, 'ta_testkey')
  const submitPolicy = JSON.stringify(referenced.Resources.SubmitRole?.Properties?.Policies)
  t.true(submitPolicy.includes('"Resource":{"Fn::Sub":"arn:${AWS::Partition}:iam::${AWS::AccountId}:role/pmd-s3-ssm"}'))

  const created = compilePipeline(everyFeaturePipeline()).main
  t.is(created.Resources.InstanceRole?.Type, 'AWS::IAM::Role')
  t.deepEqual(created.Resources.InstanceRole?.Properties?.ManagedPolicyArns, [
    {'Fn::Sub': 'arn:${AWS::Partition}:iam::aws:policy/AmazonSSMManagedInstanceCore'},
  ])
  t.deepEqual(created.Resources.InstanceProfile?.Properties, {Roles: [{Ref: 'InstanceRole'}]})
  const sg = created.Resources.InstanceSecurityGroup!
  t.is(sg.Type, 'AWS::EC2::SecurityGroup')
  t.false('SecurityGroupIngress' in (sg.Properties ?? {}))
  const createdEnv = submitEnv(created)
  t.deepEqual(createdEnv.INSTANCE_PROFILE, {Ref: 'InstanceProfile'})
  t.deepEqual(createdEnv.SECURITY_GROUPS, {'Fn::GetAtt': ['InstanceSecurityGroup', 'GroupId']})
  t.is(createdEnv.KEY_NAME, '')
  t.true(
    JSON.stringify(created.Resources.SubmitRole?.Properties?.Policies).includes(
      '"iam:PassRole","Resource":{"Fn::GetAtt":["InstanceRole","Arn"]}',
    ),
  )
})

test('the submit function: env for the job protocol, custom handler code, dry run, monitor link', (t) => {
  const {main} = compilePipeline(everyFeaturePipeline())
  const fn = main.Resources.SubmitFunction!
  t.is(fn.Properties?.Runtime, 'nodejs22.x')
  t.is(fn.Properties?.Handler, 'main.handler')
  t.deepEqual(fn.Metadata, {'ncap:asset': 'handlers/submit'})
  t.deepEqual(fn.Properties?.Code, {S3Bucket: {Ref: 'AssetsBucket'}, S3Key: {Ref: 'SubmitCodeKey'}})
  t.deepEqual(fn.DependsOn, ['SubmitLogGroup'])
  t.regex(String(fn.Properties?.FunctionName), /^every-feature-pipeline-[0-9a-f]{6}-submit$/)
  t.is(main.Resources.SubmitLogGroup?.Properties?.LogGroupName, `/aws/lambda/${fn.Properties?.FunctionName}`)
  const env = submitEnv(main)
  t.is(env.LAUNCH, 'false')
  t.is(env.MONITOR, 'true')
  t.deepEqual(env.MONITOR_FUNCTION_ARN, {'Fn::GetAtt': ['MonitorFunction', 'Arn']})
  t.is(env.COMMAND_SLOTS, '4')
  t.is(env.BUCKET_NAME, 'every-feature.pipeline')
  for (const value of Object.values(env)) t.true(typeof value === 'string' || typeof value === 'object')
  t.deepEqual(main.Metadata, {
    ncap: {
      pipeline: 'every-feature.pipeline',
      capabilities: ['CAPABILITY_NAMED_IAM'],
      assets: {
        FoldersCodeKey: 'lambda_repo/folders',
        MonitorCodeKey: 'lambda_repo/monitor',
        SubmitCodeKey: 'handlers/submit',
        PostProcessCodeKey: 'post',
      },
      nestedStacks: false,
    },
  })
  const seed = compilePipeline(seedPipeline()).main
  t.is(seed.Resources.SubmitFunction?.Properties?.Handler, 'index.handler')
  t.deepEqual(seed.Resources.SubmitFunction?.Metadata, {'ncap:asset': 'lambda_repo/submit_start'})
  t.is(submitEnv(seed).LAUNCH, 'true')
})

test('the monitor: schedule, permissions for its schedule and the per-job rules; MONITOR false leaves it out', (t) => {
  const {main} = compilePipeline(seedPipeline())
  t.is(main.Resources.MonitorSchedule?.Properties?.ScheduleExpression, 'rate(1 minute)')
  t.deepEqual(main.Resources.MonitorSchedulePermission?.Properties?.SourceArn, {'Fn::GetAtt': ['MonitorSchedule', 'Arn']})
  t.deepEqual(main.Resources.MonitorJobRulesPermission?.Properties?.SourceArn, {
    'Fn::Sub': 'arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/job__dlcmonitored1*',
  })
  t.is(submitEnv(main).JOB_RULE_PREFIX, 'job__dlcmonitored1')
  const off = compilePipeline({...seedPipeline(), instance: {...seedPipeline().instance, monitor: false}}).main
  t.deepEqual(
    Object.keys(off.Resources).filter((id) => id.startsWith('Monitor')),
    [],
  )
  t.is(submitEnv(off).MONITOR, 'false')
  t.is(submitEnv(off).MONITOR_FUNCTION_ARN, '')
})

test('post-processing code missing: the function is left out and build is told why', (t) => {
  const compiled: CompiledStack = compilePipeline(variants().postWithoutCode!)
  t.false('PostProcessFunction' in compiled.main.Resources)
  t.is(compiled.notes.length, 1)
  t.regex(compiled.notes[0]!, /post-processing function left out: \.\.\/\.\.\/protocols not found/)
})

test('refusals: an environment over 4 KB, a Lambda timeout over 900 s', (t) => {
  const seed = seedPipeline()
  t.throws(() => compilePipeline({...seed, instance: {...seed.instance, command: `run.sh {} ${'x'.repeat(4000)}`}}), {
    message: /environment of Lambda function dlcmonitored1-submit would be \d+ bytes; Lambda allows 4096/,
  })
  t.throws(() => compilePipeline({...seed, instance: {...seed.instance, executionTimeout: 1200}}), {
    message: /EXECUTION_TIMEOUT.*found 1200/,
  })
})

test('names: logical ids from names with stable hashes on collision; function names fit Lambda rules', (t) => {
  const seed = seedPipeline()
  const groups = [
    {name: 'lab-a', userNames: ['u1'], userInput: true},
    {name: 'lab_a', userNames: ['u2'], userInput: true},
  ]
  const {main} = compilePipeline({
    ...seed,
    name: `a.${'b'.repeat(60)}`,
    groups,
    users: [
      {name: 'u1', groups: ['lab-a'], existing: false},
      {name: 'u2', groups: ['lab_a'], existing: false},
    ],
  })
  const ids = ofType(main, 'AWS::IAM::Group').map(([id]) => id)
  t.is(ids[0], 'GroupLabA')
  t.regex(ids[1]!, /^GroupLabA[0-9a-f]{8}$/)
  for (const [, fn] of ofType(main, 'AWS::Lambda::Function')) {
    const name = String(fn.Properties?.FunctionName)
    t.regex(name, /^[A-Za-z0-9_-]{1,64}$/)
  }
  for (const id of Object.keys(main.Resources)) t.regex(id, /^[A-Za-z0-9]{1,255}$/)
})
