/** EC2's errors by their AWS codes, with AWS's messages naming the resource. */
import {AwsError} from '../../errors.js'

const list = (ids: readonly string[]) => ids.map((id) => `'${id}'`).join(', ')

export const notFound = (code: string, noun: string, ids: readonly string[]) =>
  new AwsError(code, `The ${noun}${ids.length > 1 ? 's' : ''} ${list(ids)} ${ids.length > 1 ? 'do' : 'does'} not exist`)

export const instanceNotFound = (ids: readonly string[]) =>
  new AwsError(
    'InvalidInstanceID.NotFound',
    `The instance ID${ids.length > 1 ? 's' : ''} ${list(ids)} ${ids.length > 1 ? 'do' : 'does'} not exist`,
  )
export const instanceMalformed = (id: string) => new AwsError('InvalidInstanceID.Malformed', `Invalid id: "${id}"`)
export const amiNotFound = (ids: readonly string[]) =>
  new AwsError(
    'InvalidAMIID.NotFound',
    `The image id${ids.length > 1 ? 's' : ''} '[${ids.join(', ')}]' ${ids.length > 1 ? 'do' : 'does'} not exist`,
  )
export const amiMalformed = (id: string) => new AwsError('InvalidAMIID.Malformed', `Invalid id: "${id}" (expecting "ami-...")`)
export const groupNotFound = (names: readonly string[], byId: boolean) =>
  new AwsError(
    'InvalidGroup.NotFound',
    byId
      ? `The security group${names.length > 1 ? 's' : ''} ${list(names)} ${names.length > 1 ? 'do' : 'does'} not exist`
      : `The security group${names.length > 1 ? 's' : ''} ${list(names)} ${names.length > 1 ? 'do' : 'does'} not exist in default VPC`,
  )
export const groupIdMalformed = (id: string) => new AwsError('InvalidGroupId.Malformed', `Invalid id: "${id}" (expecting "sg-...")`)
export const keyPairNotFound = (name: string) => new AwsError('InvalidKeyPair.NotFound', `The key pair '${name}' does not exist`)
export const volumeNotFound = (ids: readonly string[]) =>
  new AwsError('InvalidVolume.NotFound', `The volume${ids.length > 1 ? 's' : ''} ${list(ids)} ${ids.length > 1 ? 'do' : 'does'} not exist.`)
export const volumeMalformed = (id: string) => new AwsError('InvalidVolumeID.Malformed', `Invalid id: "${id}" (expecting "vol-...")`)
export const incorrectInstanceState = (id: string, state: string, wanted: string) =>
  new AwsError('IncorrectInstanceState', `The instance '${id}' is not in a state from which it can be ${wanted}; it is ${state}.`)
export const invalidParameterValue = (message: string) => new AwsError('InvalidParameterValue', message)
export const invalidParameterCombination = (message: string) => new AwsError('InvalidParameterCombination', message)
export const missingParameter = (name: string) => new AwsError('MissingParameter', `The request must contain the parameter ${name}`)
export const dependencyViolation = (id: string, detail: string) =>
  new AwsError('DependencyViolation', `resource ${id} has a dependent object (${detail})`)
export const invalidFilter = (name: string) => new AwsError('InvalidParameterValue', `The filter '${name}' is invalid`)
export const dryRunOk = () => new AwsError('DryRunOperation', 'Request would have succeeded, but DryRun flag is set.', 412)
export const unsupported = (action: string) =>
  new AwsError('InvalidAction', `The action ${action} is not valid for this web service: the ncap emulator does not serve EC2 ${action}.`)
