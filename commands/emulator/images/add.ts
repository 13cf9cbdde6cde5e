import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'
import {resolveStateDir} from '../../../src/emulator/paths.js'
import {type ImageRecord, registerImage} from '../../../src/emulator/services/ec2/images.js'
import {NcapCommand, stateDirFlag} from '../../../src/ui/ncap-command.js'

export default class EmulatorImagesAdd extends NcapCommand {
  static override summary = 'Register a local folder as an image (AMI) the emulator launches instances from.'
  static override description =
    "An instance launched from the image runs in that folder (its /home/ubuntu); nothing is copied. The id is derived from the folder unless --image-id gives one (for example the AMI id a pipeline's config names), and the root volume's size from the folder's size. Works whether or not the emulator runs; a running emulator sees the image at once."
  static override examples = [
    '<%= config.bin %> <%= command.id %> ./images/analysis',
    '<%= config.bin %> <%= command.id %> ./images/analysis --image-id ami-0123456789abcdef0 --name analysis-v2',
  ]
  static override args = {
    dir: Args.string({description: 'the image folder', required: true}),
  }
  static override flags = {
    ...stateDirFlag,
    'image-id': Flags.string({description: 'the AMI id to register it as (ami- and 8 or 17 hex digits)'}),
    name: Flags.string({description: "the image's name (default: the folder's name)"}),
    description: Flags.string({description: "the image's description"}),
  }

  async run(): Promise<ImageRecord> {
    const {args, flags} = await this.parse(EmulatorImagesAdd)
    const image = await registerImage(resolveStateDir(flags['state-dir']), {
      dir: args.dir,
      ...(flags['image-id'] ? {imageId: flags['image-id']} : {}),
      ...(flags.name ? {name: flags.name} : {}),
      ...(flags.description ? {description: flags.description} : {}),
    })
    this.say(`Registered ${image.ImageId} (${image.Name}): ${image.Dir}, root volume ${image.RootSizeGiB} GiB`)
    return image
  }
}
