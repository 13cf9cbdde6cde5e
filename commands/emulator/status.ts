import {emulatorStatus} from '../../src/emulator/lifecycle.js'
import {resolveStateDir} from '../../src/emulator/paths.js'
import {NcapCommand, stateDirFlag} from '../../src/ui/ncap-command.js'

export default class EmulatorStatus extends NcapCommand {
  static override summary = 'Show whether the embedded emulator is running.'
  static override description =
    'Reads the emulator record in the state folder and checks that its process is alive and its endpoint answers. Exits 1 when it is not running (a stale record is removed).'
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --json --state-dir ./.ncap/emulator',
  ]
  static override flags = {
    ...stateDirFlag,
  }

  async run(): Promise<unknown> {
    const {flags} = await this.parse(EmulatorStatus)
    const status = await emulatorStatus(resolveStateDir(flags['state-dir']))
    if (status.running) {
      this.say(`Emulator running at ${status.endpoint} (pid ${status.pid}); state in ${status.stateDir}`)
      return {running: true, endpoint: status.endpoint, pid: status.pid, stateDir: status.stateDir}
    }
    this.say(`Emulator not running (state folder ${status.stateDir})${status.reason ? `: ${status.reason}` : ''}`)
    // Exit 1 without an error: the answer "not running" is still printed (as JSON under --json).
    process.exitCode = 1
    return {running: false, stateDir: status.stateDir}
  }
}
