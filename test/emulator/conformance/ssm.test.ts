/**
 * SSM against botocore's model through boto3: Run Command on a real instance
 * (an image folder prepared in the state folder, an instance profile, EC2's
 * RunInstances) and Parameter Store, every served operation in its output
 * shape and with a modeled error each; every other SSM operation refused with
 * UnknownOperationException naming it.
 */
import {mkdir, mkdtemp, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import test from 'ava'
import {registerImage} from '../../../src/emulator/services/ec2/images.js'
import {SSM_ACTIONS} from '../../../src/emulator/services/ssm/handler.js'
import {ref} from './drive.js'
import {conformanceSuite, type Step} from './suite.js'

const IMAGE = 'ami-0d0e0d0e0d0e0d0e0'
const MISSING_COMMAND = '00000000-0000-4000-8000-000000000000'

let counter = 0
const call = (service: string, op: string, params: Record<string, unknown> = {}, id = `${op}#${++counter}`): Step => ({
  id,
  service: service as Step['service'],
  op,
  params,
})
const ssm = (op: string, params: Record<string, unknown> = {}, id?: string) => call('ssm', op, params, id)
const fails = (step: Step, expect: string): Step => ({...step, expect})

const instance = ref('run', 'Instances.0.InstanceId')
const command = ref('send', 'Command.CommandId')
const TRUST = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{Effect: 'Allow', Principal: {Service: 'ec2.amazonaws.com'}, Action: 'sts:AssumeRole'}],
})

const steps: Step[] = [
  call('iam', 'CreateRole', {RoleName: 'conf-ssm-role', AssumeRolePolicyDocument: TRUST}),
  call('iam', 'CreateInstanceProfile', {InstanceProfileName: 'conf-ssm-profile'}),
  call('iam', 'AddRoleToInstanceProfile', {InstanceProfileName: 'conf-ssm-profile', RoleName: 'conf-ssm-role'}),
  call('ec2', 'RunInstances', {ImageId: IMAGE, MinCount: 1, MaxCount: 1, IamInstanceProfile: {Name: 'conf-ssm-profile'}}, 'run'),
  // Parameter Store while the instance boots.
  ssm('PutParameter', {Name: '/conf/a', Value: 'one', Type: 'String', Tags: [{Key: 'team', Value: 'lab'}]}),
  ssm('PutParameter', {Name: '/conf/a', Value: 'two', Overwrite: true}),
  fails(ssm('PutParameter', {Name: '/conf/a', Value: 'three', Type: 'String'}), 'ParameterAlreadyExists'),
  ssm('PutParameter', {Name: '/conf/deep/s', Value: 'secret', Type: 'SecureString'}),
  ssm('PutParameter', {Name: '/conf/list', Value: 'x,y', Type: 'StringList'}),
  ssm('GetParameter', {Name: '/conf/deep/s', WithDecryption: true}),
  ssm('GetParameter', {Name: '/conf/a:1'}),
  fails(ssm('GetParameter', {Name: '/conf/none'}), 'ParameterNotFound'),
  fails(ssm('GetParameter', {Name: '/conf/a:7'}), 'ParameterVersionNotFound'),
  ssm('GetParameters', {Names: ['/conf/a', '/conf/none']}),
  ssm('GetParametersByPath', {Path: '/conf', Recursive: true, MaxResults: 2}),
  fails(ssm('GetParametersByPath', {Path: '/conf', ParameterFilters: [{Key: 'Bogus', Values: ['x']}]}), 'InvalidFilterKey'),
  ssm('DescribeParameters', {ParameterFilters: [{Key: 'Name', Option: 'BeginsWith', Values: ['/conf']}]}),
  fails(ssm('DescribeParameters', {ParameterFilters: [{Key: 'Bogus', Values: ['x']}]}), 'InvalidFilterKey'),
  ssm('GetParameterHistory', {Name: '/conf/a'}),
  fails(ssm('GetParameterHistory', {Name: '/conf/none'}), 'ParameterNotFound'),
  ssm('LabelParameterVersion', {Name: '/conf/a', ParameterVersion: 1, Labels: ['stable']}),
  fails(ssm('LabelParameterVersion', {Name: '/conf/a', ParameterVersion: 9, Labels: ['x']}), 'ParameterVersionNotFound'),
  ssm('UnlabelParameterVersion', {Name: '/conf/a', ParameterVersion: 1, Labels: ['stable']}),
  fails(ssm('UnlabelParameterVersion', {Name: '/conf/none', ParameterVersion: 1, Labels: ['x']}), 'ParameterNotFound'),
  ssm('AddTagsToResource', {ResourceType: 'Parameter', ResourceId: '/conf/a', Tags: [{Key: 'stage', Value: 'dev'}]}),
  fails(
    ssm('AddTagsToResource', {ResourceType: 'Parameter', ResourceId: '/conf/none', Tags: [{Key: 'k', Value: 'v'}]}),
    'InvalidResourceId',
  ),
  ssm('ListTagsForResource', {ResourceType: 'Parameter', ResourceId: '/conf/a'}),
  fails(ssm('ListTagsForResource', {ResourceType: 'Document', ResourceId: 'AWS-RunShellScript'}), 'InvalidResourceType'),
  ssm('RemoveTagsFromResource', {ResourceType: 'Parameter', ResourceId: '/conf/a', TagKeys: ['stage']}),
  fails(ssm('RemoveTagsFromResource', {ResourceType: 'Parameter', ResourceId: '/conf/none', TagKeys: ['k']}), 'InvalidResourceId'),
  ssm('DeleteParameters', {Names: ['/conf/list', '/conf/none']}),
  ssm('DeleteParameter', {Name: '/conf/deep/s'}),
  fails(ssm('DeleteParameter', {Name: '/conf/deep/s'}), 'ParameterNotFound'),
  // Run Command on the instance, now running.
  ssm('DescribeInstanceInformation', {Filters: [{Key: 'InstanceIds', Values: [instance]}]}),
  fails(ssm('DescribeInstanceInformation', {Filters: [{Key: 'Bogus', Values: ['x']}]}), 'InvalidFilterKey'),
  ssm(
    'SendCommand',
    {DocumentName: 'AWS-RunShellScript', InstanceIds: [instance], Parameters: {commands: ['echo conformance', 'echo err >&2']}},
    'send',
  ),
  fails(
    ssm('SendCommand', {DocumentName: 'AWS-RunShellScript', InstanceIds: ['i-0000000000000dead'], Parameters: {commands: ['true']}}),
    'InvalidInstanceId',
  ),
  fails(ssm('SendCommand', {DocumentName: 'NotADocument', InstanceIds: [instance], Parameters: {commands: ['true']}}), 'InvalidDocument'),
  fails(ssm('GetCommandInvocation', {CommandId: command, InstanceId: 'i-0000000000000beef'}), 'InvocationDoesNotExist'),
  ssm('ListCommands', {CommandId: command}),
  fails(ssm('ListCommands', {CommandId: MISSING_COMMAND}), 'InvalidCommandId'),
  ssm('ListCommandInvocations', {CommandId: command, Details: true}),
  fails(ssm('ListCommandInvocations', {CommandId: MISSING_COMMAND}), 'InvalidCommandId'),
  ssm('DescribeInstanceInformation'),
  // Right after SendCommand the agent may not have picked the command up yet: AWS's command-executed waiter polls through that too.
  {...ssm('GetCommandInvocation', {CommandId: command, InstanceId: instance}), retry: {code: 'InvocationDoesNotExist', times: 20, ms: 100}},
  ssm('CancelCommand', {CommandId: command}),
  fails(ssm('CancelCommand', {CommandId: MISSING_COMMAND}), 'InvalidCommandId'),
]

conformanceSuite(test, {
  service: 'ssm' as Step['service'],
  served: SSM_ACTIONS,
  steps,
  alive: ssm('DescribeParameters'),
  refusals: ['UnknownOperationException'],
  always: {
    GetCommandInvocationResult: [
      'CommandId',
      'InstanceId',
      'Status',
      'StatusDetails',
      'ResponseCode',
      'StandardOutputContent',
      'StandardErrorContent',
    ],
    SendCommandResult: ['Command'],
    GetParameterResult: ['Parameter'],
  },
  uninducible: {
    DeleteParameters: 'its only modeled error is InternalServerError; missing names are listed as InvalidParameters',
    GetParameters:
      'its modeled errors are InvalidKeyId (no KMS key is ever invalid here) and InternalServerError; missing names are listed as InvalidParameters',
  },
  prepare: async (stateDir) => {
    const dir = join(await mkdtemp(join(tmpdir(), 'ncap-conformance-ssm-image-')), 'image')
    await mkdir(join(dir, 'bin'), {recursive: true})
    await writeFile(join(dir, 'bin', 'run.sh'), '#!/bin/bash\necho ok\n')
    await registerImage(stateDir, {dir, imageId: IMAGE, name: 'conformance-ssm-image'})
  },
})
