/**
 * Differential test against moto_server on stack outcomes (status, resources,
 * outputs) for templates both support; where moto departs from AWS, AWS's
 * behaviour is asserted on the emulator side, with the reason.
 */
import {
  CloudFormationClient,
  CreateStackCommand,
  DeleteStackCommand,
  DescribeStacksCommand,
  ListStackResourcesCommand,
} from '@aws-sdk/client-cloudformation'
import {HeadBucketCommand, S3Client} from '@aws-sdk/client-s3'
import test from 'ava'
import {hasMoto, type RunningMoto, startMoto} from '../../helpers/moto.js'
import {body, type CfnFixture, credentials, failure, region, settled, startCfn} from './helpers.js'

const haveMoto = hasMoto()
if (!haveMoto)
  console.log('Skipping the CloudFormation moto differential tests: moto_server is not installed (pip install "moto[server]").')
const diff = haveMoto ? test.serial : test.skip

let f: CfnFixture
let moto: RunningMoto | undefined
let motoCfn: CloudFormationClient
let motoS3: S3Client

test.before(async () => {
  f = await startCfn()
  if (!haveMoto) return
  moto = await startMoto()
  motoCfn = new CloudFormationClient({endpoint: moto.endpoint, region, credentials})
  motoS3 = new S3Client({endpoint: moto.endpoint, region, credentials, forcePathStyle: true})
})

test.after.always(async () => {
  await f?.server.close()
  await moto?.stop()
})

interface Outcome {
  status?: string
  resources?: string[]
  outputs?: Record<string, string>
  error?: string
}

async function outcome(
  cfn: CloudFormationClient,
  name: string,
  template: unknown,
  parameters: Record<string, string> = {},
): Promise<Outcome> {
  try {
    await cfn.send(
      new CreateStackCommand({
        StackName: name,
        TemplateBody: body(template),
        Capabilities: ['CAPABILITY_NAMED_IAM'],
        Parameters: Object.entries(parameters).map(([ParameterKey, ParameterValue]) => ({ParameterKey, ParameterValue})),
      }),
    )
  } catch (error) {
    return {error: (error as Error).name}
  }
  const stack = await settled(cfn, name, 30_000)
  const resources = (await cfn.send(new ListStackResourcesCommand({StackName: name}))).StackResourceSummaries ?? []
  return {
    status: stack.StackStatus,
    // moto lists a row with no logical id for the stack itself; AWS lists only the template's resources.
    resources: resources
      .filter((r) => r.LogicalResourceId)
      .map((r) => `${r.LogicalResourceId}:${r.ResourceType}:${r.ResourceStatus}`)
      .sort(),
    // Account ids differ by design (moto 123456789012, the emulator 000000000000).
    outputs: Object.fromEntries((stack.Outputs ?? []).map((o) => [o.OutputKey!, o.OutputValue!.replace(/\b\d{12}\b/g, '<account>')])),
  }
}

const bucketTemplate = (name: string) => ({
  Parameters: {Env: {Type: 'String', Default: 'dev', AllowedValues: ['dev', 'prod']}},
  Conditions: {IsProd: {'Fn::Equals': [{Ref: 'Env'}, 'prod']}},
  Resources: {
    Bucket: {Type: 'AWS::S3::Bucket', Properties: {BucketName: {'Fn::Sub': `${name}-\${Env}`}}},
    Extra: {Type: 'AWS::S3::Bucket', Condition: 'IsProd', Properties: {BucketName: {'Fn::Sub': `${name}-extra`}}},
  },
  Outputs: {
    Name: {Value: {Ref: 'Bucket'}},
    Arn: {Value: {'Fn::GetAtt': ['Bucket', 'Arn']}},
    Joined: {Value: {'Fn::Join': [':', [{Ref: 'AWS::Region'}, {Ref: 'Env'}, {'Fn::If': ['IsProd', 'big', 'small']}]]}},
  },
})

diff('a bucket with parameters, conditions and outputs: same status, resources and outputs; delete removes it on both', async (t) => {
  const ours = await outcome(f.cfn, 'diff-bucket', bucketTemplate('cfn-diff'))
  const theirs = await outcome(motoCfn, 'diff-bucket', bucketTemplate('cfn-diff'))
  t.deepEqual(ours, theirs)
  t.is(ours.status, 'CREATE_COMPLETE')
  const prodOurs = await outcome(f.cfn, 'diff-prod', bucketTemplate('cfn-diffp'), {Env: 'prod'})
  const prodTheirs = await outcome(motoCfn, 'diff-prod', bucketTemplate('cfn-diffp'), {Env: 'prod'})
  t.deepEqual(prodOurs, prodTheirs)
  for (const [cfn, s3] of [
    [f.cfn, f.s3],
    [motoCfn, motoS3],
  ] as const) {
    await cfn.send(new DeleteStackCommand({StackName: 'diff-bucket'}))
    await settled(cfn, 'diff-bucket').catch(() => undefined)
    t.is((await failure(s3.send(new HeadBucketCommand({Bucket: 'cfn-diff-dev'})))).status, 404)
    t.is((await failure(cfn.send(new DescribeStacksCommand({StackName: 'diff-bucket'})))).name, 'ValidationError')
  }
})

diff(
  "IAM: a user in a group by Ref, with an access key: same status and outputs; moto leaves the group out of the stack's resources, AWS lists it",
  async (t) => {
    const template = {
      Resources: {
        Group: {Type: 'AWS::IAM::Group', Properties: {GroupName: 'cfn-diff-group'}},
        User: {Type: 'AWS::IAM::User', Properties: {UserName: 'cfn-diff-user', Groups: [{Ref: 'Group'}]}},
        Key: {Type: 'AWS::IAM::AccessKey', Properties: {UserName: {Ref: 'User'}}},
      },
      Outputs: {User: {Value: {'Fn::GetAtt': ['User', 'Arn']}}},
    }
    const ours = await outcome(f.cfn, 'diff-iam', template)
    t.is(ours.status, 'CREATE_COMPLETE')
    t.deepEqual(ours.outputs, {User: 'arn:aws:iam::<account>:user/cfn-diff-user'})
    const theirs = await outcome(motoCfn, 'diff-iam', template)
    t.is(theirs.status, ours.status)
    t.deepEqual(theirs.outputs, ours.outputs)
    t.deepEqual(ours.resources, [
      'Group:AWS::IAM::Group:CREATE_COMPLETE',
      'Key:AWS::IAM::AccessKey:CREATE_COMPLETE',
      'User:AWS::IAM::User:CREATE_COMPLETE',
    ])
    t.log(`moto's resources: ${JSON.stringify(theirs.resources)}`)
  },
)

diff('a bad parameter value: AWS refuses CreateStack with ValidationError; moto accepts it', async (t) => {
  const ours = await outcome(f.cfn, 'diff-badparam', bucketTemplate('cfn-diffbad'), {Env: 'staging'})
  t.deepEqual(ours, {error: 'ValidationError'})
  const theirs = await outcome(motoCfn, 'diff-badparam', bucketTemplate('cfn-diffbad'), {Env: 'staging'})
  t.log(`moto: ${JSON.stringify(theirs)}`)
})

diff('a cycle: AWS refuses the template at CreateStack with ValidationError (moto answers otherwise)', async (t) => {
  const cycle = {
    Resources: {
      A: {Type: 'AWS::S3::Bucket', Properties: {BucketName: {'Fn::Sub': '${B}-a'}}},
      B: {Type: 'AWS::S3::Bucket', Properties: {BucketName: {'Fn::Sub': '${A}-b'}}},
    },
  }
  t.deepEqual(await outcome(f.cfn, 'diff-cycle', cycle), {error: 'ValidationError'})
  const theirs = await outcome(motoCfn, 'diff-cycle', cycle).catch((error: Error) => ({error: error.message}) as Outcome)
  t.log(`moto: ${JSON.stringify(theirs)}`)
})
