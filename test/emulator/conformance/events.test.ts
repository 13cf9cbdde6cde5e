/**
 * EventBridge against botocore's model: every served operation driven through
 * boto3, its answers checked against the output shape, a modeled error
 * provoked for each; every other operation (archives, replays,
 * connections, API destinations, endpoints, partner sources) refused with
 * UnknownOperationException naming it.
 */
import test from 'ava'
import {EVENTS_OPERATIONS} from '../../../src/emulator/services/events/handler.js'
import type {Call} from './drive.js'
import {ref} from './drive.js'
import {conformanceSuite, type Step} from './suite.js'

// drive.ts's Call names the services its author needed; boto3 drives any.
const EVENTS = 'events' as Call['service']
const FN = 'arn:aws:lambda:us-east-1:000000000000:function:conformance-target'
const RULE_ARN = 'arn:aws:events:us-east-1:000000000000:rule/conf-pattern'
const PATTERN = JSON.stringify({source: ['conformance.lab'], detail: {size: [{numeric: ['>', 0]}]}})
const EVENT = JSON.stringify({
  id: '1',
  account: '000000000000',
  source: 'conformance.lab',
  time: '2026-12-01T08:00:00Z',
  region: 'us-east-1',
  resources: [],
  'detail-type': 'x',
  detail: {size: 3},
})

let counter = 0
const ok = (op: string, params: Record<string, unknown> = {}, id = `${op}#${++counter}`): Step => ({id, service: EVENTS, op, params})
const fails = (op: string, params: Record<string, unknown>, expect: string): Step => ({...ok(op, params), expect})
const nobus = {EventBusName: 'conformance-missing-bus'}

const steps: Step[] = [
  ok('DescribeEventBus', {}),
  ok('DescribeEventBus', {Name: 'default'}),
  fails('DescribeEventBus', {Name: 'conformance-missing-bus'}, 'ResourceNotFoundException'),
  ok('CreateEventBus', {Name: 'conf-bus', Description: 'conformance', Tags: [{Key: 'k', Value: 'v'}]}),
  fails('CreateEventBus', {Name: 'conf-bus'}, 'ResourceAlreadyExistsException'),
  ok('DescribeEventBus', {Name: 'conf-bus'}),
  ok('ListEventBuses', {}),
  ok('ListEventBuses', {NamePrefix: 'conf-', Limit: 1}),
  ok('PutRule', {Name: 'conf-on-bus', EventBusName: 'conf-bus', EventPattern: PATTERN}),
  ok('DeleteRule', {Name: 'conf-on-bus', EventBusName: 'conf-bus'}),
  ok('DeleteEventBus', {Name: 'conf-bus'}),
  ok('DeleteEventBus', {Name: 'conf-bus'}),
  ok('PutRule', {Name: 'conf-pattern', EventPattern: PATTERN, Description: 'conformance', Tags: [{Key: 'team', Value: 'neuro'}]}),
  ok('PutRule', {Name: 'conf-schedule', ScheduleExpression: 'cron(0 10 ? * MON-FRI *)', State: 'DISABLED'}),
  ok('PutRule', {Name: 'conf-rate', ScheduleExpression: 'rate(5 minutes)'}),
  fails('PutRule', {Name: 'conf-bad', EventPattern: '{"source": "x"}'}, 'InvalidEventPatternException'),
  fails('PutRule', {Name: 'conf-bad', ScheduleExpression: 'rate(1 minutes)'}, 'ValidationException'),
  fails('PutRule', {Name: 'conf-bad', EventPattern: PATTERN, ...nobus}, 'ResourceNotFoundException'),
  ok('DescribeRule', {Name: 'conf-pattern'}),
  ok('DescribeRule', {Name: 'conf-schedule'}),
  fails('DescribeRule', {Name: 'conf-missing'}, 'ResourceNotFoundException'),
  ok('ListRules', {NamePrefix: 'conf-', Limit: 2}, 'rules1'),
  ok('ListRules', {NamePrefix: 'conf-', Limit: 2, NextToken: ref('rules1', 'NextToken')}),
  fails('ListRules', nobus, 'ResourceNotFoundException'),
  ok('DisableRule', {Name: 'conf-rate'}),
  fails('DisableRule', {Name: 'conf-missing'}, 'ResourceNotFoundException'),
  ok('EnableRule', {Name: 'conf-rate'}),
  fails('EnableRule', {Name: 'conf-missing'}, 'ResourceNotFoundException'),
  ok('PutTargets', {Rule: 'conf-pattern', Targets: [{Id: 'fn', Arn: FN, InputPath: '$.detail'}]}),
  ok('PutTargets', {
    Rule: 'conf-rate',
    Targets: [{Id: 'fn', Arn: FN, InputTransformer: {InputPathsMap: {t: '$.time'}, InputTemplate: '{"at": <t>}'}}],
  }),
  fails('PutTargets', {Rule: 'conf-missing', Targets: [{Id: 'fn', Arn: FN}]}, 'ResourceNotFoundException'),
  fails(
    'PutTargets',
    {Rule: 'conf-pattern', Targets: ['a', 'b', 'c', 'd', 'e'].map((id) => ({Id: id, Arn: FN}))},
    'LimitExceededException',
  ),
  ok('ListTargetsByRule', {Rule: 'conf-pattern'}),
  fails('ListTargetsByRule', {Rule: 'conf-missing'}, 'ResourceNotFoundException'),
  ok('ListRuleNamesByTarget', {TargetArn: FN}),
  fails('ListRuleNamesByTarget', {TargetArn: FN, ...nobus}, 'ResourceNotFoundException'),
  ok('PutEvents', {
    Entries: [
      {Source: 'conformance.lab', DetailType: 'x', Detail: '{"size": 3}'},
      {Source: 'conformance.lab', DetailType: 'x', Detail: 'nope'},
    ],
  }),
  ok('TestEventPattern', {EventPattern: PATTERN, Event: EVENT}),
  fails('TestEventPattern', {EventPattern: '{"source": [{"bogus": 1}]}', Event: EVENT}, 'InvalidEventPatternException'),
  ok('TagResource', {ResourceARN: RULE_ARN, Tags: [{Key: 'stage', Value: 'dev'}]}),
  fails('TagResource', {ResourceARN: `${RULE_ARN}-missing`, Tags: [{Key: 'a', Value: 'b'}]}, 'ResourceNotFoundException'),
  ok('ListTagsForResource', {ResourceARN: RULE_ARN}),
  fails('ListTagsForResource', {ResourceARN: `${RULE_ARN}-missing`}, 'ResourceNotFoundException'),
  ok('UntagResource', {ResourceARN: RULE_ARN, TagKeys: ['stage']}),
  fails('UntagResource', {ResourceARN: `${RULE_ARN}-missing`, TagKeys: ['a']}, 'ResourceNotFoundException'),
  ok('RemoveTargets', {Rule: 'conf-rate', Ids: ['fn']}),
  fails('RemoveTargets', {Rule: 'conf-missing', Ids: ['fn']}, 'ResourceNotFoundException'),
  fails('DeleteRule', {Name: 'conf-pattern'}, 'ValidationException'),
  fails('DeleteRule', {Name: 'conf-pattern', ...nobus}, 'ResourceNotFoundException'),
  ok('DeleteRule', {Name: 'conf-rate'}),
  fails('DeleteRule', {Name: 'conf-pattern', Force: true}, 'ValidationException'),
  ok('RemoveTargets', {Rule: 'conf-pattern', Ids: ['fn']}),
  ok('DeleteRule', {Name: 'conf-pattern'}),
  ok('DeleteRule', {Name: 'conf-pattern'}),
]

conformanceSuite(test, {
  service: EVENTS,
  served: EVENTS_OPERATIONS,
  steps,
  alive: ok('DescribeEventBus', {}),
  refusals: ['UnknownOperationException'],
  uninducible: {
    DeleteEventBus: 'its modeled errors are ConcurrentModificationException and InternalException, which one client cannot provoke',
    ListEventBuses: 'its only modeled error is InternalException, a service fault',
    PutEvents: 'its only modeled error is InternalException; bad entries fail per entry inside a 200 answer',
  },
})
