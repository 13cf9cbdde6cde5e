import {type StopResult, stopEmulator} from '../../src/emulator/lifecycle.js'
import {resolveStateDir} from '../../src/emulator/paths.js'
import {NcapCommand, stateDirFlag} from '../../src/ui/ncap-command.js'

export default class EmulatorStop extends NcapCommand {
  static override summary = 'Stop the embedded emulator.'
  static override description =
    'Sends SIGTERM to the emulator of the state folder, waits up to 5 s for it to close cleanly, then SIGKILL. Stopping an emulator that is not running is not an error.'
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --state-dir ./.ncap/emulator --json',
  ]
  static override flags = {
    ...stateDirFlag,
  }

  async run(): Promise<StopResult> {
    const {flags} = await this.parse(EmulatorStop)
    const result = await stopEmulator(resolveStateDir(flags['state-dir']))
    if (!result.stopped) this.say(`Emulator not running (state folder ${result.stateDir})`)
    else this.say(`Emulator stopped (pid ${result.pid}${result.forced ? ', killed after 5 s' : ''})`)
    return result
  }
}
