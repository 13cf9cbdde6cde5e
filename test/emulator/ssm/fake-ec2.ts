/**
 * A small stand-in for EC2 (services/ec2 is written in parallel): it keeps
 * running instances in a map and runs them in the real instance runtime
 * (src/emulator/instances), so SSM's tests exercise real sandboxes. Its role
 * credentials come from a real STS AssumeRole against the emulator. Only what
 * SSM calls is here: describeInstance and exec, plus launch/terminate for tests.
 */
import {mkdir} from 'node:fs/promises'
import {join} from 'node:path'
import {AssumeRoleCommand, STSClient} from '@aws-sdk/client-sts'
import {AwsError} from '../../../src/emulator/errors.js'
import {createInstanceRuntime} from '../../../src/emulator/instances/index.js'
import type {InstanceSandbox, RoleCredentials} from '../../../src/emulator/instances/types.js'
import type {Ec2Internal, InstanceExec, InstanceView, RunningExec} from '../../../src/emulator/internal.js'
import type {EmulatedService, ServiceFactory} from '../../../src/emulator/types.js'

export interface FakeEc2 extends Ec2Internal {
  launch(options: {imageDir: string; roleArn?: string; tags?: Record<string, string>; region?: string}): Promise<string>
  terminate(instanceId: string): Promise<void>
  shutdowns: {instanceId: string; kind: string}[]
  sandbox(instanceId: string): InstanceSandbox | undefined
}

export function fakeEc2(): {factory: ServiceFactory; api: () => FakeEc2} {
  let made: FakeEc2 | undefined
  const factory: ServiceFactory = (env) => {
    const runtime = createInstanceRuntime({stateDir: env.stateDir, events: env.events, now: () => env.clock.now()})
    const instances = new Map<string, {view: InstanceView; sandbox: InstanceSandbox}>()
    let counter = 0
    const api: FakeEc2 = {
      shutdowns: [],
      describeInstance: (region, id) => {
        const found = instances.get(id)
        return found && found.view.region === region ? {...found.view} : undefined
      },
      exec(region: string, id: string, command: InstanceExec): RunningExec {
        const found = instances.get(id)
        if (!found || found.view.region !== region || found.view.state !== 'running') {
          throw new AwsError('InvalidInstanceId', `Instance ${id} is not running.`)
        }
        return found.sandbox.exec(command)
      },
      sandbox: (id) => instances.get(id)?.sandbox,
      async launch({imageDir, roleArn, tags = {}, region = 'us-east-1'}) {
        const instanceId = `i-${(Date.now().toString(16) + (++counter).toString(16).padStart(4, '0')).slice(-17).padStart(17, '0')}`
        const instanceDir = join(env.stateDir, 'ec2', 'instances', instanceId)
        await mkdir(instanceDir, {recursive: true})
        const credentials = roleArn
          ? async (): Promise<RoleCredentials> => {
              const sts = new STSClient({region, endpoint: env.endpoint, credentials: {accessKeyId: 'test', secretAccessKey: 'test'}})
              const {Credentials} = await sts.send(new AssumeRoleCommand({RoleArn: roleArn, RoleSessionName: instanceId}))
              sts.destroy()
              return {
                accessKeyId: Credentials!.AccessKeyId!,
                secretAccessKey: Credentials!.SecretAccessKey!,
                sessionToken: Credentials!.SessionToken!,
                expiration: Credentials!.Expiration!,
                roleName: roleArn.split('/').at(-1)!,
              }
            }
          : undefined
        const view: InstanceView = {
          instanceId,
          region,
          state: 'pending',
          imageId: 'ami-0123456789abcdef0',
          instanceType: 't3.micro',
          ...(roleArn ? {iamInstanceProfileArn: `arn:aws:iam::000000000000:instance-profile/${roleArn.split('/').at(-1)}`} : {}),
          tags,
          launchTime: new Date(env.clock.now()),
        }
        const sandbox = await runtime.create(
          {
            instanceId,
            region,
            imageId: view.imageId,
            imageDir,
            instanceDir,
            instanceType: view.instanceType,
            endpoint: env.endpoint,
            credentials,
            clockOffsetMs: () => env.clock.offsetMs,
          },
          {
            onShutdownRequest: (kind) => {
              api.shutdowns.push({instanceId, kind})
              if (kind === 'poweroff') void api.terminate(instanceId)
            },
            onConsoleOutput: () => {},
          },
        )
        instances.set(instanceId, {view, sandbox})
        await sandbox.start()
        view.state = 'running'
        return instanceId
      },
      async terminate(instanceId) {
        const found = instances.get(instanceId)
        if (!found || found.view.state === 'terminated') return
        found.view.state = 'shutting-down'
        await found.sandbox.halt()
        found.view.state = 'terminated'
        await found.sandbox.destroy()
      },
    }
    made = api
    const service: EmulatedService = {
      signingName: 'ec2',
      internal: api,
      async handle(ctx) {
        ctx.req.resume()
        ctx.res.writeHead(501).end()
      },
      async close() {
        await Promise.all([...instances.keys()].map((id) => api.terminate(id)))
      },
    }
    return service
  }
  return {factory, api: () => made!}
}
