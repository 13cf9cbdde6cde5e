import * as Flags from '@oclif/core/flags'
import {type StartResult, serveUntilSignal, startEmulator} from '../../src/emulator/lifecycle.js'
import {DEFAULT_EMULATOR_PORT, resolveStateDir} from '../../src/emulator/paths.js'
import {NcapCommand, stateDirFlag} from '../../src/ui/ncap-command.js'

export default class EmulatorStart extends NcapCommand {
  static override summary = 'Start the embedded AWS emulator.'
  static override description =
    `Starts the emulator detached (or in the foreground with --foreground) on 127.0.0.1 and returns once it answers, printing its endpoint. Starting it again on the same state folder prints the running one's endpoint.

Default port: ${DEFAULT_EMULATOR_PORT} (not LocalStack's 4566). Default state folder: $NCAP_HOME/emulator when NCAP_HOME is set, else the per-user data folder (~/.local/share/ncap/emulator on Linux). Credentials: access key "test", secret "test", account 000000000000.`
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --port 0 --state-dir ./.ncap/emulator',
    '<%= config.bin %> <%= command.id %> --foreground',
    'AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test aws --endpoint-url http://127.0.0.1:4599 s3 ls',
  ]
  static override flags = {
    port: Flags.integer({description: `port on 127.0.0.1 (0 = any free port)`, default: DEFAULT_EMULATOR_PORT, min: 0, max: 65535}),
    ...stateDirFlag,
    foreground: Flags.boolean({description: 'serve in this process until Ctrl-C or SIGTERM', default: false}),
  }

  async run(): Promise<StartResult | undefined> {
    const {flags} = await this.parse(EmulatorStart)
    const stateDir = resolveStateDir(flags['state-dir'])
    if (!flags.foreground) {
      const result = await startEmulator({stateDir, port: flags.port})
      this.say(
        result.alreadyRunning
          ? `Emulator already running at ${result.endpoint} (pid ${result.pid})`
          : `Emulator running at ${result.endpoint} (pid ${result.pid})`,
      )
      this.say(`State folder: ${result.stateDir}`)
      return result
    }
    // Foreground: report readiness as it happens; run() only returns after the signal.
    await serveUntilSignal({stateDir, port: flags.port}, (record) => {
      const ready: StartResult = {endpoint: record.endpoint, pid: record.pid, stateDir: record.stateDir, alreadyRunning: false}
      if (this.jsonEnabled()) this.logJson(ready)
      this.say(`Emulator listening at ${record.endpoint} (pid ${record.pid}); state in ${record.stateDir}. Ctrl-C stops it.`)
    })
    this.say('Emulator stopped.')
    return undefined
  }
}
