/** The STS service (signing name `sts`), sharing the account's IAM state with the IAM service and the core. */
import type {ServiceFactory} from '../../types.js'
import {identityFor} from '../iam/index.js'
import {StsService} from './handler.js'

const stsService: ServiceFactory = async (env) => new StsService(await identityFor(env.stateDir))

export default stsService
