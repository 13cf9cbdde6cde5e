/** The flags every job command shares: which pipeline, which group, as whom, on which target. */
import * as Flags from '@oclif/core/flags'
import {pipelineTargetFlags} from './ncap-command.js'

export const jobFlags = {
  dir: Flags.string({description: 'the pipeline folder', default: '.'}),
  group: Flags.string({description: "the group (default: the pipeline's only group)"}),
  ...pipelineTargetFlags,
  profile: Flags.string({
    description: 'an AWS profile to act with (one `ncap users credentials --profile` wrote acts as that user)',
    helpGroup: 'TARGET',
  }),
}

export const asUserFlag = {
  'as-user': Flags.string({
    description: "act as this user of the group (its key from Secrets Manager; default on local: the group's first user)",
  }),
}
