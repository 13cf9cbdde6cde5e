/**
 * The handlers' settings, from the environment the compiler writes into the
 * template (src/template/jobs.ts, monitoring.ts): one schema, the types derived.
 */
import {z} from 'zod'

const flag = z.enum(['true', 'false', 'True', 'False']).transform((v) => v.toLowerCase() === 'true')
const count = z.coerce.number().int().nonnegative()

export const submitSettingsSchema = z.object({
  PIPELINE_NAME: z.string().min(1),
  BUCKET_NAME: z.string().min(1),
  REGION: z.string().min(1),
  AMI: z.string().min(1),
  INSTANCE_TYPE: z.string().min(1),
  COMMAND: z.string().min(1),
  COMMAND_SLOTS: count.default(4),
  WORKING_DIRECTORY: z.string().default(''),
  EXECUTION_TIMEOUT: count.default(900),
  SSM_TIMEOUT: count.default(172000),
  DEPLOY_LIMIT: count.default(300),
  MAXCOST: z.coerce.number().nonnegative().default(300),
  LAUNCH: flag.default('true'),
  MONITOR: flag.default('true'),
  INDIR: z.string().default('inputs'),
  OUTDIR: z.string().default('results'),
  LOGDIR: z.string().default('logs'),
  CONFIGDIR: z.string().default('configs'),
  SUBMITDIR: z.string().default('submissions'),
  LOGFILE: z.string().default('lambda_log.txt'),
  CONFIG: z.string().default('config.yaml'),
  MISSING_CONFIG_ERROR: z.string().default('We need a config file to analyze data.'),
  SHUTDOWN_BEHAVIOR: z.enum(['terminate', 'stop']).default('terminate'),
  INSTANCE_PROFILE: z.string().default(''),
  SECURITY_GROUPS: z.string().default(''),
  KEY_NAME: z.string().default(''),
  MONITOR_FUNCTION_ARN: z.string().default(''),
  JOB_RULE_PREFIX: z.string().min(1),
})
export type SubmitSettings = z.infer<typeof submitSettingsSchema>

export const monitorSettingsSchema = z.object({
  PIPELINE_NAME: z.string().min(1),
  BUCKET_NAME: z.string().min(1),
  REGION: z.string().min(1),
  OUTDIR: z.string().default('results'),
  LOGDIR: z.string().default('logs'),
  SHUTDOWN_BEHAVIOR: z.enum(['terminate', 'stop']).default('terminate'),
  JOB_RULE_PREFIX: z.string().min(1),
})
export type MonitorSettings = z.infer<typeof monitorSettingsSchema>

/** Reads settings; a missing or bad variable is the deployer's error, named. */
export function readSettings<T>(schema: z.ZodType<T, z.ZodTypeDef, unknown>, env: NodeJS.ProcessEnv = process.env): T {
  const parsed = schema.safeParse(env)
  if (parsed.success) return parsed.data
  const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)
  throw new Error(`the function's environment is not what ncap's template sets: ${problems.join('; ')}`)
}
