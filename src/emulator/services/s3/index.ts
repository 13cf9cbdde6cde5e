/** The S3 service: signing name `s3`, state under `${stateDir}/s3/`. */
import type {ServiceFactory} from '../../types.js'
import {S3Service} from './handler.js'
import {S3State} from './state.js'

const createS3: ServiceFactory = async (env) => new S3Service(await S3State.open(env.stateDir, () => env.clock.now()), env)

export default createS3
export {S3State} from './state.js'
