import * as Flags from '@oclif/core/flags'
import type {EmulatorEvent} from '../../src/emulator/event-record.js'
import {resolveStateDir} from '../../src/emulator/paths.js'
import {followEvents, formatEvent, listEvents, sinceInstant} from '../../src/emulator/services/ncap/cli.js'
import {NcapCommand, stateDirFlag} from '../../src/ui/ncap-command.js'

export default class EmulatorEvents extends NcapCommand {
  static override summary = 'List what the emulator did and why, one line each.'
  static override description =
    'Every S3 notification delivered or not (and why), every rule match and target invocation, every Lambda invoke with its outcome, instance state changes, SSM command transitions and IAM denials, from the event record in the state folder (readable whether or not the emulator runs). --follow prints new lines as they are recorded; --json prints one JSON object per line.'
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --service events --since 30m',
    '<%= config.bin %> <%= command.id %> --follow --json',
  ]
  static override flags = {
    ...stateDirFlag,
    follow: Flags.boolean({char: 'f', description: 'keep printing new events until Ctrl-C', default: false}),
    service: Flags.string({description: 'only this service (s3, lambda, events, ec2, ssm, iam, logs, …)'}),
    since: Flags.string({description: 'only events of the last D on the emulator clock (10m, 1h, 2d)'}),
  }

  async run(): Promise<undefined> {
    const {flags} = await this.parse(EmulatorEvents)
    const stateDir = resolveStateDir(flags['state-dir'])
    const filter = {service: flags.service, since: sinceInstant(stateDir, flags.since)}
    // NDJSON under --json: one object per line, so --follow can stream it.
    const print = (event: EmulatorEvent) => process.stdout.write(`${this.jsonEnabled() ? JSON.stringify(event) : formatEvent(event)}\n`)
    const events = await listEvents(stateDir, filter)
    for (const event of events) print(event)
    if (!flags.follow) {
      if (events.length === 0 && !this.jsonEnabled())
        this.say(`No events recorded in ${stateDir}${flags.service || flags.since ? ' that match' : ''}.`)
      return undefined
    }
    const stop = new AbortController()
    const onSignal = () => stop.abort()
    process.once('SIGINT', onSignal)
    process.once('SIGTERM', onSignal)
    await followEvents(stateDir, filter, print, stop.signal)
    return undefined
  }
}
