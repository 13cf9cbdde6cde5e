import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'
import {checkInitTarget, type InitAnswers, type InitResult, initPipeline} from '../src/config/scaffold.js'
import {NcapCommand} from '../src/ui/ncap-command.js'
import {askInitAnswers, canPrompt, completeAnswers, parseGroupFlag} from '../src/ui/prompts.js'

export default class Init extends NcapCommand {
  static override summary = 'Create a new pipeline: its stack config, an instance image with bin/run.sh, simulated events and a README'
  static override description =
    `Asks for the pipeline's settings (every question is also a flag) and writes DIR/stack_config_template.json, DIR/image/ (the instance's home folder, with bin/run.sh whose placeholder analysis records each input's size and sha256), DIR/simevents/ and DIR/README.md.

On a terminal it asks what the flags did not give; with --yes, without a TTY, or with CI=true it never asks: the defaults fill the rest, and a missing --name or --group is an error (--yes derives them). DIR must be empty or new; --force overwrites ncap's own files there and leaves other files alone. Nothing is written unless every answer is valid.

Exit codes: 0 written, 2 bad answers or a folder it must not write into.`
  static override examples = [
    '<%= config.bin %> init my-pipeline',
    '<%= config.bin %> init my-pipeline --name my-pipeline --group lab:alice,bob --group other:carol',
    '<%= config.bin %> init my-pipeline --yes --json',
  ]
  static override args = {dir: Args.string({description: 'the pipeline folder to create', default: '.'})}
  static override flags = {
    name: Flags.string({description: 'pipeline name: the bucket and stack name (S3 bucket rules)'}),
    region: Flags.string({description: 'AWS region [default: us-east-1]'}),
    ami: Flags.string({description: 'AMI id of the analysis image [default: a placeholder, ami-0123456789abcdef0]'}),
    'instance-type': Flags.string({description: 'EC2 instance type [default: t3.micro]'}),
    command: Flags.string({description: 'command run on each instance; {} = bucket, data key, result path, config key (at most four)'}),
    'execution-timeout': Flags.integer({
      description: "EXECUTION_TIMEOUT: the submit function's timeout in seconds, at most 900 [default: 900]",
      min: 1,
    }),
    'ssm-timeout': Flags.integer({description: 'SSM_TIMEOUT in seconds [default: 172000]', min: 1}),
    group: Flags.string({description: 'a group and its users, NAME:USER1,USER2 (repeatable)', multiple: true}),
    'contact-email': Flags.string({description: 'e-mail address for job notices, given to every group'}),
    yes: Flags.boolean({char: 'y', description: 'ask nothing: defaults for everything not given (name from DIR, group lab)'}),
    force: Flags.boolean({description: "write into a non-empty DIR, overwriting ncap's own files there"}),
  }

  async run(): Promise<InitResult> {
    const {args, flags} = await this.parse(Init)
    // Refuse a folder before asking anything, and a malformed --group before anything else.
    await checkInitTarget(args.dir, {force: flags.force})
    const partial: Partial<InitAnswers> = {
      name: flags.name,
      region: flags.region,
      ami: flags.ami,
      instanceType: flags['instance-type'],
      command: flags.command,
      executionTimeout: flags['execution-timeout'],
      ssmTimeout: flags['ssm-timeout'],
      groups: flags.group?.map((g) => parseGroupFlag(g)),
      contactEmail: flags['contact-email'],
    }
    const answers = canPrompt({yes: flags.yes})
      ? await askInitAnswers(partial, {dir: args.dir})
      : completeAnswers(partial, {yes: flags.yes, dir: args.dir})
    const result = await initPipeline(args.dir, answers, {force: flags.force})
    for (const warning of result.warnings) this.warnLine(warning)
    this.say(`Created pipeline ${answers.name} in ${result.dir}:`)
    for (const file of result.files) this.say(`  ${file}${result.overwritten.includes(file) ? '  (overwritten)' : ''}`)
    this.say('')
    this.say(`Next: cd ${args.dir} && ncap validate && ncap build; see README.md.`)
    return result
  }
}
