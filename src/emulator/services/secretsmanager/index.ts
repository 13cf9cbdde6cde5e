/** The Secrets Manager service (signing name `secretsmanager`, JSON 1.1), its state under `${stateDir}/secretsmanager/`. */
import type {ServiceFactory} from '../../types.js'
import {SecretsManagerService} from './handler.js'
import {SecretsState} from './state.js'

const secretsManagerService: ServiceFactory = async (env) =>
  new SecretsManagerService(await SecretsState.open(env.stateDir, () => env.clock.now()), env)

export default secretsManagerService
