/**
 * Durability: a stack survives an emulator restart (status, resources,
 * outputs, events) and can be deleted afterwards; an emulator SIGKILLed while
 * a stack is CREATE_IN_PROGRESS (a custom resource waiting on its function)
 * comes back with that stack in a clear CREATE_FAILED state, never stuck
 * IN_PROGRESS, and the stack can then be deleted.
 */
import {type ChildProcess, spawn} from 'node:child_process'
import {mkdtemp} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {CloudFormationClient, CreateStackCommand, DeleteStackCommand, DescribeStacksCommand} from '@aws-sdk/client-cloudformation'
import {HeadBucketCommand} from '@aws-sdk/client-s3'
import test from 'ava'
import {body, credentials, eventsOf, failure, region, settled, startCfn} from './helpers.js'

const serverModule = new URL('../../../src/emulator/server.ts', import.meta.url).href

async function spawnEmulator(stateDir: string): Promise<{child: ChildProcess; endpoint: string}> {
  const code = `const {startServer} = await import(${JSON.stringify(serverModule)}); const s = await startServer({stateDir: process.env.STATE_DIR, port: 0}); console.log('PORT ' + s.port)`
  const child = spawn(process.execPath, ['--import=tsx', '--input-type=module', '-e', code], {
    env: {...process.env, STATE_DIR: stateDir},
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const port = await new Promise<string>((resolve, reject) => {
    let out = ''
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      const match = /PORT (\d+)/.exec(out)
      if (match) resolve(match[1] as string)
    })
    child.once('exit', (code) => reject(new Error(`emulator exited early with ${code}`)))
  })
  return {child, endpoint: `http://127.0.0.1:${port}`}
}

test('a stack survives an emulator restart and is deleted afterwards', async (t) => {
  const first = await startCfn()
  const template = {
    Resources: {Bucket: {Type: 'AWS::S3::Bucket', Properties: {BucketName: 'cfn-restart'}}},
    Outputs: {Name: {Value: {Ref: 'Bucket'}, Export: {Name: 'cfn-restart-name'}}},
  }
  await first.cfn.send(new CreateStackCommand({StackName: 'durable', TemplateBody: body(template)}))
  const created = await settled(first.cfn, 'durable')
  t.is(created.StackStatus, 'CREATE_COMPLETE')
  const before = await eventsOf(first.cfn, 'durable')
  await first.server.close()

  const second = await startCfn(first.stateDir)
  try {
    const again = (await second.cfn.send(new DescribeStacksCommand({StackName: 'durable'}))).Stacks![0]!
    t.is(again.StackStatus, 'CREATE_COMPLETE')
    t.is(again.StackId, created.StackId)
    t.deepEqual(again.Outputs, created.Outputs)
    t.deepEqual(await eventsOf(second.cfn, 'durable'), before)
    await second.cfn.send(new DeleteStackCommand({StackName: 'durable'}))
    t.is((await settled(second.cfn, created.StackId!)).StackStatus, 'DELETE_COMPLETE')
    t.is((await failure(second.s3.send(new HeadBucketCommand({Bucket: 'cfn-restart'})))).status, 404)
  } finally {
    await second.server.close()
  }
})

test('SIGKILL during CREATE_IN_PROGRESS: after a restart the stack is CREATE_FAILED, never stuck, and deletable', async (t) => {
  const stateDir = await mkdtemp(join(tmpdir(), 'ncap-cfn-kill-'))
  const {child, endpoint} = await spawnEmulator(stateDir)
  const cfn = new CloudFormationClient({endpoint, region, credentials})
  const template = {
    Resources: {
      Role: {
        Type: 'AWS::IAM::Role',
        Properties: {
          AssumeRolePolicyDocument: {
            Version: '2012-10-17',
            Statement: [{Effect: 'Allow', Principal: {Service: 'lambda.amazonaws.com'}, Action: 'sts:AssumeRole'}],
          },
        },
      },
      Bucket: {Type: 'AWS::S3::Bucket', Properties: {BucketName: 'cfn-killed'}},
      Fn: {
        Type: 'AWS::Lambda::Function',
        Properties: {
          Runtime: 'nodejs22.x',
          Handler: 'index.handler',
          Role: {'Fn::GetAtt': ['Role', 'Arn']},
          Code: {ZipFile: 'exports.handler = async () => {}'},
        },
      },
      Waits: {Type: 'Custom::Waits', DependsOn: 'Bucket', Properties: {ServiceToken: {'Fn::GetAtt': ['Fn', 'Arn']}, ServiceTimeout: 3600}},
    },
  }
  try {
    await cfn.send(new CreateStackCommand({StackName: 'killed', TemplateBody: body(template), Capabilities: ['CAPABILITY_IAM']}))
    for (let i = 0; i < 600; i++) {
      const events = await eventsOf(cfn, 'killed')
      if (events.some((e) => e.LogicalResourceId === 'Waits' && e.ResourceStatus === 'CREATE_IN_PROGRESS')) break
      await new Promise((done) => setTimeout(done, 50))
    }
    t.is((await cfn.send(new DescribeStacksCommand({StackName: 'killed'}))).Stacks![0]!.StackStatus, 'CREATE_IN_PROGRESS')
    // Let the coalesced stack write reach the disk, then kill without warning.
    await new Promise((done) => setTimeout(done, 300))
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGKILL')
    await exited
  }
  const after = await startCfn(stateDir)
  try {
    const stack = await settled(after.cfn, 'killed', 10_000)
    t.is(stack.StackStatus, 'CREATE_FAILED')
    t.regex(stack.StackStatusReason!, /stopped during CREATE_IN_PROGRESS/)
    const events = await eventsOf(after.cfn, 'killed')
    t.truthy(events.find((e) => e.LogicalResourceId === 'Waits' && e.ResourceStatus === 'CREATE_FAILED'))
    await after.s3.send(new HeadBucketCommand({Bucket: 'cfn-killed'}))
    await after.cfn.send(new DeleteStackCommand({StackName: 'killed'}))
    const deleted = await settled(after.cfn, stack.StackId!, 30_000)
    t.is(
      deleted.StackStatus,
      'DELETE_COMPLETE',
      (await eventsOf(after.cfn, stack.StackId!))
        .map((e) => `${e.LogicalResourceId} ${e.ResourceStatus} ${e.ResourceStatusReason ?? ''}`)
        .join('\n'),
    )
    t.is((await failure(after.s3.send(new HeadBucketCommand({Bucket: 'cfn-killed'})))).status, 404)
  } finally {
    await after.server.close()
  }
})
