/** CloudWatch Logs' named errors, in the codes and statuses its JSON 1.1 protocol answers with. */
import {AwsError} from '../../errors.js'

export const invalidParameter = (message: string) => new AwsError('InvalidParameterException', message)
export const groupNotFound = (group: string) =>
  new AwsError('ResourceNotFoundException', `The specified log group does not exist: ${group}`)
export const streamNotFound = (group: string, stream: string) =>
  new AwsError('ResourceNotFoundException', `The specified log stream does not exist: ${stream} in log group ${group}`)
export const groupExists = (group: string) =>
  new AwsError('ResourceAlreadyExistsException', `The specified log group already exists: ${group}`)
export const streamExists = (group: string, stream: string) =>
  new AwsError('ResourceAlreadyExistsException', `The specified log stream already exists: ${stream} in log group ${group}`)
export const unknownOperation = (operation: string) =>
  new AwsError('UnknownOperationException', `The ncap emulator does not serve the CloudWatch Logs operation ${operation}.`)
