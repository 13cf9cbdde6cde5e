import {resolveStateDir} from '../../src/emulator/paths.js'
import {describeClock, readClock} from '../../src/emulator/services/ncap/cli.js'
import {NcapCommand, stateDirFlag} from '../../src/ui/ncap-command.js'

export default class EmulatorClock extends NcapCommand {
  static override summary = "Show the running emulator's clock."
  static override description =
    "Everything the emulator decides on time (schedules, Lambda and SSM timeouts, instance ages, log retention) reads this clock. It is the host's clock plus an offset that only grows: `ncap emulator clock advance 25m` moves it forward and fires whatever falls due. Exits 1 when no emulator runs."
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --json',
    '<%= config.bin %> <%= command.id %> advance 6m',
  ]
  static override flags = {...stateDirFlag}

  async run(): Promise<unknown> {
    const {flags} = await this.parse(EmulatorClock)
    const view = await readClock(resolveStateDir(flags['state-dir']))
    this.say(`Emulator clock: ${describeClock(view)}`)
    return view
  }
}
