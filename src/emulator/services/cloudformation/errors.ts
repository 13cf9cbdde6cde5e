/** CloudFormation's named errors, as the Query protocol carries them (code, HTTP status). */
import {AwsError} from '../../errors.js'

export const stackNotFound = (name: string) => new AwsError('ValidationError', `Stack with id ${name} does not exist`, 400)
export const alreadyExists = (message: string) => new AwsError('AlreadyExistsException', message, 400)
export const insufficientCapabilities = (missing: string[]) =>
  new AwsError('InsufficientCapabilitiesException', `Requires capabilities : [${missing.join(', ')}]`, 400)
export const changeSetNotFound = (name: string) => new AwsError('ChangeSetNotFound', `ChangeSet [${name}] does not exist`, 404)
export const invalidChangeSetStatus = (message: string) => new AwsError('InvalidChangeSetStatus', message, 400)
