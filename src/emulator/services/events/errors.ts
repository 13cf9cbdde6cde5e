/** EventBridge's named errors (JSON 1.1, AWSEvents). */
import {AwsError} from '../../errors.js'

export const validation = (message: string) => new AwsError('ValidationException', message)
export const invalidPattern = (reason: string) =>
  new AwsError('InvalidEventPatternException', `Event pattern is not valid. Reason: ${reason}`)
export const ruleNotFound = (name: string, bus = 'default') =>
  new AwsError('ResourceNotFoundException', `Rule ${name} does not exist on EventBus ${bus}.`)
export const busNotFound = (name: string) => new AwsError('ResourceNotFoundException', `Event bus ${name} does not exist.`)
export const limitExceeded = (message: string) => new AwsError('LimitExceededException', message)
export const unknownOperation = (operation: string) =>
  new AwsError('UnknownOperationException', `The ncap emulator does not serve the EventBridge operation ${operation}.`)
