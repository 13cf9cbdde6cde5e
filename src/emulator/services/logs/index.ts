/** The CloudWatch Logs service (signing name `logs`); its `internal` member is how Lambda and SSM write log lines. */
import type {ServiceFactory} from '../../types.js'
import {LogsService} from './handler.js'
import {LogsState} from './state.js'

const logsService: ServiceFactory = async (env) => new LogsService(await LogsState.open(env.stateDir, env.clock), env)

export default logsService
