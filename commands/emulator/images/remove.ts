import * as Args from '@oclif/core/args'
import {resolveStateDir} from '../../../src/emulator/paths.js'
import {type ImageRecord, removeImage} from '../../../src/emulator/services/ec2/images.js'
import {NcapCommand, stateDirFlag} from '../../../src/ui/ncap-command.js'

export default class EmulatorImagesRemove extends NcapCommand {
  static override summary = 'Remove an image from the emulator (its folder is left alone).'
  static override description =
    'Instances already launched from it keep running; new launches and starts of stopped instances are refused as InvalidAMIID.NotFound, as after a deregistration on AWS.'
  static override examples = ['<%= config.bin %> <%= command.id %> ami-0123456789abcdef0']
  static override args = {
    id: Args.string({description: 'the image id', required: true}),
  }
  static override flags = {...stateDirFlag}

  async run(): Promise<ImageRecord> {
    const {args, flags} = await this.parse(EmulatorImagesRemove)
    const image = await removeImage(resolveStateDir(flags['state-dir']), args.id)
    this.say(`Removed ${image.ImageId} (${image.Name}); ${image.Dir} is untouched.`)
    return image
  }
}
