import {resolveStateDir} from '../../../src/emulator/paths.js'
import {type ImageRecord, listImages} from '../../../src/emulator/services/ec2/images.js'
import {NcapCommand, stateDirFlag} from '../../../src/ui/ncap-command.js'

export default class EmulatorImagesList extends NcapCommand {
  static override summary = 'List the images registered with the emulator.'
  static override description = 'Each image id with its name, folder and root volume size, as DescribeImages answers them.'
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json']
  static override flags = {...stateDirFlag}

  async run(): Promise<ImageRecord[]> {
    const {flags} = await this.parse(EmulatorImagesList)
    const stateDir = resolveStateDir(flags['state-dir'])
    const images = await listImages(stateDir)
    if (images.length === 0) this.say(`No images registered in ${stateDir}: add one with ncap emulator images add DIR.`)
    for (const image of images) this.say(`${image.ImageId}  ${image.Name}  ${image.RootSizeGiB} GiB  ${image.Dir}`)
    return images
  }
}
