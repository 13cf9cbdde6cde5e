/**
 * NeuroCAAS's defaults (ncap_iac/global_params_initialized.json), applied only where a
 * key is absent: an explicit false, 0 or "" is the user's value, never replaced
 * (NeuroCAAS's `if not config.get(field, False)` replaced an explicit false).
 */
export const NEUROCAAS_DEFAULTS = {
  EXECUTION_TIMEOUT: 900,
  SSM_TIMEOUT: 172000,
  LAUNCH: true,
  LOGFILE: 'lambda_log.txt',
  DEPLOY_LIMIT: 100,
  MAXCOST: 300,
  MONITOR: true,
  LOGDIR: 'logs',
  OUTDIR: 'results',
  INDIR: 'inputs',
  CONFIG: 'config.yaml',
  MISSING_CONFIG_ERROR: 'We need a config file to analyze data.',
  SHUTDOWN_BEHAVIOR: 'terminate',
  UserInput: true,
} as const

/** Per-group folders with fixed names (DESIGN §4); INDIR/OUTDIR must not take them. */
export const FIXED_GROUP_FOLDERS = ['configs', 'submissions'] as const

/** The values COMMAND's {} slots receive, in order. */
export const COMMAND_SLOT_VALUES = ['bucket', 'data key', 'result path', 'config key'] as const

/** AWS limits that the values feed into. */
export const LIMITS = {
  /** EXECUTION_TIMEOUT is the submit Lambda's Timeout (as in NeuroCAAS's builder): Lambda allows 900 s. */
  lambdaTimeout: 900,
  /** SSM_TIMEOUT is the SendCommand executionTimeout: AWS-RunShellScript allows 172800 s (48 h). */
  ssmTimeout: 172800,
} as const
