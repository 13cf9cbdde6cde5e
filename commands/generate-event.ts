import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'
import {EC2_STATES, EVENT_TYPES, generateEvent, SSM_STATUSES} from '../src/jobs/events.js'
import {NcapCommand} from '../src/ui/ncap-command.js'

export default class GenerateEvent extends NcapCommand {
  static override summary = 'Print an event as AWS delivers it to a pipeline function'
  static override description =
    `Prints, on stdout, an event of TYPE in AWS's exact shape, from ncap's template in simevents/ filled with the flags: feed it to \`ncap invoke --event -\`. S3 keys are URL-encoded as S3 writes them into notifications.

Types:
${Object.entries(EVENT_TYPES)
  .map(([type, what]) => `  ${type.padEnd(19)} ${what}`)
  .join('\n')}`
  static override examples = [
    '<%= config.bin %> generate-event s3-put --bucket dlc --key "lab/submissions/my submit.json"',
    '<%= config.bin %> generate-event ec2-state-change --instance-id i-0abc --state stopped',
    '<%= config.bin %> generate-event ssm-command-status --instance-id i-0abc --command-id 11111111-2222-3333-4444-555555555555 --status Failed',
    '<%= config.bin %> generate-event cfn-delete --bucket dlc --stack dlc --response-url http://127.0.0.1:8000/answer',
    '<%= config.bin %> generate-event s3-put --bucket dlc | <%= config.bin %> invoke --event -',
  ]
  static override args = {type: Args.string({description: 'event type', required: true, options: Object.keys(EVENT_TYPES)})}
  static override flags = {
    bucket: Flags.string({description: "the pipeline's bucket (S3 and custom-resource events)", default: 'my-pipeline'}),
    key: Flags.string({description: 'object key, unencoded (default <group>/submissions/submit.json)'}),
    group: Flags.string({description: 'the group (default: the key’s first folder, else lab)'}),
    groups: Flags.string({description: 'comma-separated groups of the folders resource (default: the group)'}),
    size: Flags.integer({description: 'object size in bytes (s3-put)'}),
    'instance-id': Flags.string({description: 'EC2 instance id', default: 'i-0123456789abcdef0'}),
    state: Flags.string({description: 'EC2 instance state (ec2-state-change)', options: [...EC2_STATES], default: 'running'}),
    'command-id': Flags.string({description: 'SSM command id (ssm-command-status; default a new UUID)'}),
    status: Flags.string({description: 'SSM invocation status (ssm-command-status)', options: [...SSM_STATUSES], default: 'Success'}),
    stack: Flags.string({description: 'CloudFormation stack name (default: the bucket)'}),
    'response-url': Flags.string({description: "where the custom resource answers (default: AWS's presigned URL shape)"}),
    'rule-name': Flags.string({description: 'EventBridge rule of a schedule event'}),
    region: Flags.string({description: 'AWS region', default: 'us-east-1'}),
    account: Flags.string({description: 'AWS account id', default: '000000000000'}),
  }

  async run() {
    const {args, flags} = await this.parse(GenerateEvent)
    const event = await generateEvent(args.type, {
      bucket: flags.bucket,
      key: flags.key,
      group: flags.group,
      groups: flags.groups
        ?.split(',')
        .map((g) => g.trim())
        .filter((g) => g.length > 0),
      size: flags.size,
      instanceId: flags['instance-id'],
      state: flags.state,
      commandId: flags['command-id'],
      status: flags.status,
      stack: flags.stack,
      responseUrl: flags['response-url'],
      ruleName: flags['rule-name'],
      region: flags.region,
      account: flags.account,
    })
    if (!this.jsonEnabled()) this.log(JSON.stringify(event, null, 2))
    return event
  }
}
