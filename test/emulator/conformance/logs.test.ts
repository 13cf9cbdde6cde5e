/**
 * CloudWatch Logs against botocore's model: every served operation driven
 * through boto3, its answers checked against the output shape, a modeled
 * error provoked for each; every other operation refused with
 * UnknownOperationException naming it.
 */
import test from 'ava'
import {LOGS_OPERATIONS} from '../../../src/emulator/services/logs/handler.js'
import type {Call} from './drive.js'
import {ref} from './drive.js'
import {conformanceSuite, type Step} from './suite.js'

// drive.ts's Call names the services its author needed; boto3 drives any.
const LOGS = 'logs' as Call['service']
const GROUP = '/conformance/app'
const ARN = 'arn:aws:logs:us-east-1:000000000000:log-group:/conformance/app'
const NOW = Date.now()

let counter = 0
const ok = (op: string, params: Record<string, unknown> = {}, id = `${op}#${++counter}`): Step => ({id, service: LOGS, op, params})
const fails = (op: string, params: Record<string, unknown>, expect: string): Step => ({...ok(op, params), expect})
const group = {logGroupName: GROUP}
const stream = {...group, logStreamName: 'web-1'}
const missingGroup = {logGroupName: '/conformance/missing'}

const steps: Step[] = [
  ok('CreateLogGroup', {...group, tags: {team: 'neuro'}}),
  ok('CreateLogGroup', {logGroupName: '/conformance/other'}),
  fails('CreateLogGroup', group, 'ResourceAlreadyExistsException'),
  fails('CreateLogGroup', {logGroupName: 'bad name!'}, 'InvalidParameterException'),
  ok('DescribeLogGroups', {logGroupNamePrefix: '/conformance/', limit: 1}, 'groups1'),
  ok('DescribeLogGroups', {logGroupNamePrefix: '/conformance/', limit: 1, nextToken: ref('groups1', 'nextToken')}),
  ok('DescribeLogGroups', {logGroupNamePattern: 'conformance'}),
  fails('DescribeLogGroups', {logGroupNamePrefix: '/c', logGroupNamePattern: 'c'}, 'InvalidParameterException'),
  ok('PutRetentionPolicy', {...group, retentionInDays: 30}),
  fails('PutRetentionPolicy', {...group, retentionInDays: 2}, 'InvalidParameterException'),
  fails('PutRetentionPolicy', {...missingGroup, retentionInDays: 30}, 'ResourceNotFoundException'),
  ok('DeleteRetentionPolicy', group),
  fails('DeleteRetentionPolicy', missingGroup, 'ResourceNotFoundException'),
  ok('CreateLogStream', stream),
  ok('CreateLogStream', {...group, logStreamName: 'web-2'}),
  fails('CreateLogStream', stream, 'ResourceAlreadyExistsException'),
  fails('CreateLogStream', {...missingGroup, logStreamName: 'x'}, 'ResourceNotFoundException'),
  ok('PutLogEvents', {
    ...stream,
    logEvents: [
      {timestamp: NOW - 2, message: 'ERROR disk full'},
      {timestamp: NOW - 1, message: '{"level":"info","ms":12}'},
    ],
  }),
  ok('PutLogEvents', {...stream, sequenceToken: 'ignored', logEvents: [{timestamp: NOW - 20 * 86_400_000, message: 'too old'}]}),
  fails('PutLogEvents', {...group, logStreamName: 'missing', logEvents: [{timestamp: NOW, message: 'x'}]}, 'ResourceNotFoundException'),
  fails(
    'PutLogEvents',
    {
      ...stream,
      logEvents: [
        {timestamp: NOW, message: 'b'},
        {timestamp: NOW - 10, message: 'a'},
      ],
    },
    'InvalidParameterException',
  ),
  ok('DescribeLogStreams', {...group, limit: 1}, 'streams1'),
  ok('DescribeLogStreams', {...group, limit: 1, nextToken: ref('streams1', 'nextToken')}),
  ok('DescribeLogStreams', {...group, orderBy: 'LastEventTime', descending: true}),
  fails('DescribeLogStreams', missingGroup, 'ResourceNotFoundException'),
  fails('DescribeLogStreams', {...group, orderBy: 'LastEventTime', logStreamNamePrefix: 'web'}, 'InvalidParameterException'),
  ok('GetLogEvents', {...stream, startFromHead: true, limit: 1}, 'head'),
  ok('GetLogEvents', {...stream, nextToken: ref('head', 'nextForwardToken')}),
  ok('GetLogEvents', stream),
  fails('GetLogEvents', {...group, logStreamName: 'missing'}, 'ResourceNotFoundException'),
  fails('GetLogEvents', {...stream, nextToken: 'not-a-token'}, 'InvalidParameterException'),
  ok('FilterLogEvents', {...group, filterPattern: 'ERROR'}),
  ok('FilterLogEvents', {...group, filterPattern: '{ $.ms < 100 }', logStreamNamePrefix: 'web'}),
  ok('FilterLogEvents', {...group, limit: 1}, 'filter1'),
  ok('FilterLogEvents', {...group, limit: 1, nextToken: ref('filter1', 'nextToken')}),
  fails('FilterLogEvents', missingGroup, 'ResourceNotFoundException'),
  fails('FilterLogEvents', {...group, filterPattern: '{ $.ms < }'}, 'InvalidParameterException'),
  ok('TagLogGroup', {...group, tags: {stage: 'dev'}}),
  fails('TagLogGroup', {...missingGroup, tags: {a: 'b'}}, 'ResourceNotFoundException'),
  ok('ListTagsLogGroup', group),
  fails('ListTagsLogGroup', missingGroup, 'ResourceNotFoundException'),
  ok('UntagLogGroup', {...group, tags: ['stage']}),
  fails('UntagLogGroup', {...missingGroup, tags: ['a']}, 'ResourceNotFoundException'),
  ok('TagResource', {resourceArn: ARN, tags: {owner: 'lab'}}),
  fails('TagResource', {resourceArn: `${ARN}-missing`, tags: {a: 'b'}}, 'ResourceNotFoundException'),
  fails('TagResource', {resourceArn: 'arn:aws:s3:::bucket', tags: {a: 'b'}}, 'InvalidParameterException'),
  ok('ListTagsForResource', {resourceArn: ARN}),
  fails('ListTagsForResource', {resourceArn: `${ARN}-missing`}, 'ResourceNotFoundException'),
  fails('ListTagsForResource', {resourceArn: 'not-an-arn'}, 'InvalidParameterException'),
  ok('UntagResource', {resourceArn: ARN, tagKeys: ['owner']}),
  fails('UntagResource', {resourceArn: `${ARN}-missing`, tagKeys: ['a']}, 'ResourceNotFoundException'),
  fails('UntagResource', {resourceArn: 'not-an-arn', tagKeys: ['a']}, 'InvalidParameterException'),
  ok('DeleteLogStream', {...group, logStreamName: 'web-2'}),
  fails('DeleteLogStream', {...group, logStreamName: 'web-2'}, 'ResourceNotFoundException'),
  ok('DeleteLogGroup', {logGroupName: '/conformance/other'}),
  fails('DeleteLogGroup', {logGroupName: '/conformance/other'}, 'ResourceNotFoundException'),
]

conformanceSuite(test, {
  service: LOGS,
  served: LOGS_OPERATIONS,
  steps,
  alive: ok('DescribeLogGroups', {logGroupNamePrefix: '/conformance/'}),
  refusals: ['UnknownOperationException'],
  probeInputs: {logGroupName: GROUP, logGroupIdentifier: GROUP},
})
