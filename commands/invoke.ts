import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'
import {resolveTarget} from '../src/cloud/target.js'
import {DEFAULT_FUNCTION, findFunction, invokeFunction, readEvent} from '../src/jobs/invoke.js'
import {NcapCommand, targetFlags} from '../src/ui/ncap-command.js'

export default class Invoke extends NcapCommand {
  static override summary = "Run one of the pipeline's functions locally, on an event"
  static override description =
    `Runs FUNCTION (a logical id or function name of the compiled template; default ${DEFAULT_FUNCTION}) from its source, bundled on the fly, in the same Lambda worker the emulator uses, with the environment the template gives it, its AWS calls going to the target (local: the embedded emulator, started if needed). The handler's result is printed on stdout, its logs on stderr; a handler that fails exits 1 with its error.`
  static override examples = [
    '<%= config.bin %> invoke --event simevents/s3-put.json',
    '<%= config.bin %> generate-event s3-put --bucket my-pipeline | <%= config.bin %> invoke --event -',
    '<%= config.bin %> invoke MonitorFunction --event simevents/schedule.json',
    '<%= config.bin %> invoke FoldersFunction --event simevents/cfn-create.json --env-vars env.json --endpoint-url http://127.0.0.1:5000',
  ]
  // ignoreStdin: oclif would otherwise read a piped event into the missing FUNCTION argument.
  static override args = {
    function: Args.string({description: `logical id or function name (default ${DEFAULT_FUNCTION})`, ignoreStdin: true}),
  }
  static override flags = {
    event: Flags.string({char: 'e', description: 'the event: a JSON file, or - for stdin (default {})'}),
    dir: Flags.string({description: 'pipeline folder or config file', default: '.'}),
    'env-vars': Flags.string({
      char: 'n',
      description: 'JSON overriding environment variables, as SAM\'s: {"Parameters": {...}, "<Function>": {...}}',
    }),
    ...targetFlags,
  }

  async run() {
    const {args, flags} = await this.parse(Invoke)
    const event = await readEvent(flags.event)
    const found = await findFunction(flags.dir, args.function)
    const target = await resolveTarget({
      target: flags.target as 'local' | 'localstack' | 'aws',
      endpointUrl: flags['endpoint-url'],
      profile: flags.profile,
      region: flags.region ?? found.project.pipeline.instance.region,
    })
    const report = await invokeFunction({dir: flags.dir, function: args.function, event, envVars: flags['env-vars'], target, found})
    process.stderr.write(report.logs.endsWith('\n') || report.logs === '' ? report.logs : `${report.logs}\n`)
    for (const note of report.notes) process.stderr.write(`note: ${note}\n`)
    if (report.error) {
      if (this.jsonEnabled()) this.logJson(report)
      else process.stderr.write(`Error: ${report.function} failed: ${report.error.errorType}: ${report.error.errorMessage}\n`)
      this.exit(1)
    }
    if (!this.jsonEnabled()) this.log(JSON.stringify(report.result ?? null, null, 2))
    return report
  }
}
