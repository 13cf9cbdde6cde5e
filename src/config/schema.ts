/**
 * The stack config file as written (the seed's keys, NeuroCAAS's additions, ncap's
 * `Ncap` object). Field-level rules live here as refinements, so zod reports every
 * broken field at once; rules that relate fields live in rules.ts. Objects pass
 * unknown keys through: rules.ts decides whether they are typos or extras.
 */
import {z} from 'zod'
import {
  AMI_ID,
  bucketNameProblems,
  groupNameProblems,
  INSTANCE_TYPE,
  iamUserNameProblems,
  REGION_CODE,
  stackNameProblems,
} from './naming.js'

/** Every zod issue a field raises reads "expected <text>". */
const expecting = (text: string) => ({errorMap: () => ({message: text})})

/** A refinement issue: `message` is what was expected, `params` say which rule and why. */
function refuse(ctx: z.RefinementCtx, rule: string, expected: string, why?: string): void {
  ctx.addIssue({code: z.ZodIssueCode.custom, message: expected, params: {rule, why}})
}

const pipelineName = z.string(expecting('a pipeline name (S3 bucket and CloudFormation stack name)')).superRefine((name, ctx) => {
  const bucket = bucketNameProblems(name)
  if (bucket.length > 0) return refuse(ctx, 'pipeline-name', 'an S3 bucket name', bucket.join('; '))
  const stack = stackNameProblems(name)
  if (stack.length > 0)
    refuse(ctx, 'pipeline-name', 'a CloudFormation stack name', `a valid bucket name but not a stack name: ${stack.join('; ')}`)
})

const regionCode = z.string(expecting('an AWS region code such as us-east-1')).regex(REGION_CODE)

const nonEmptyText = (what: string) => z.string(expecting(what)).min(1)

const positiveNumber = (what: string) => z.number(expecting(`${what} (a positive number)`)).positive()
const positiveInteger = (what: string, max?: number) => {
  const expected = `${what} (a positive whole number${max === undefined ? '' : ` of at most ${max}`})`
  const n = z.number(expecting(expected)).int().positive()
  return max === undefined ? n : n.max(max)
}

const jsonBoolean = z.boolean(expecting('a JSON boolean (true or false)'))

export const userNameSchema = z.string(expecting('an IAM user name')).superRefine((name, ctx) => {
  const problems = iamUserNameProblems(name)
  if (problems.length > 0) refuse(ctx, 'user-name', 'an IAM user name (1-64 of A-Z a-z 0-9 +=,.@_-)', problems.join('; '))
})

const groupName = z.string(expecting('a group name')).superRefine((name, ctx) => {
  const problems = groupNameProblems(name)
  if (problems.length > 0) refuse(ctx, 'group-name', 'a group name (IAM group rules: 1-64 of A-Z a-z 0-9 +=,.@_-)', problems.join('; '))
})

/** A folder directly under a group's folder (or the bucket's root, for LOGDIR). */
const folderName = (what: string) =>
  z.string(expecting(what)).superRefine((name, ctx) => {
    if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\\'))
      refuse(ctx, 'folder-name', 'a single folder name (no /, not . or ..)')
  })

export const LambdaConfigSchema = z
  .object(
    {
      AMI: z.string(expecting('an AMI id (ami- and 8 or 17 hex digits)')).regex(AMI_ID),
      INSTANCE_TYPE: z.string(expecting('an EC2 instance type such as p3.2xlarge')).regex(INSTANCE_TYPE),
      REGION: regionCode.optional(),
      SECURITY_GROUPS: z.union([z.string(), z.array(z.string())], expecting('a security group name or id, or a list of them')).optional(),
      IAM_ROLE: z.string(expecting('the name of an existing instance role')).optional(),
      KEY_NAME: z.string(expecting('the name of an existing key pair')).optional(),
      WORKING_DIRECTORY: z.string(expecting('a folder on the instance')).optional(),
      COMMAND: nonEmptyText('the command the instance runs'),
      SHUTDOWN_BEHAVIOR: z.enum(['terminate', 'stop'], expecting('terminate or stop')).optional(),
      CONFIG: nonEmptyText('the analysis config file name').optional(),
      MISSING_CONFIG_ERROR: nonEmptyText('the message for a job without its config').optional(),
      EXECUTION_TIMEOUT: positiveInteger('the submit function timeout in seconds', 900).optional(),
      SSM_TIMEOUT: positiveInteger('the analysis command timeout in seconds', 172800).optional(),
      LOGDIR: folderName('the log folder name').optional(),
      OUTDIR: folderName('the results folder name').optional(),
      INDIR: folderName('the inputs folder name').optional(),
      LOGFILE: nonEmptyText('the log file name').optional(),
      DEPLOY_LIMIT: positiveInteger('the most instances running at once').optional(),
      MAXCOST: positiveNumber('the budget per group in dollars').optional(),
      MONITOR: jsonBoolean.optional(),
      LAUNCH: jsonBoolean.optional(),
    },
    expecting('an object with AMI, INSTANCE_TYPE and COMMAND'),
  )
  .passthrough()

export const LambdaSchema = z
  .object(
    {
      CodeUri: nonEmptyText('the submit handler code folder'),
      Handler: nonEmptyText('the submit handler (module.function)'),
      Launch: jsonBoolean.optional(),
      PostCodeUri: nonEmptyText('the post-processing code folder').optional(),
      PostHandler: nonEmptyText('the post-processing handler (module.function)').optional(),
      PostTrigger: nonEmptyText('the key suffix that triggers post-processing').optional(),
      Requirements: z.string(expecting('a requirements file name')).optional(),
      LambdaConfig: LambdaConfigSchema,
    },
    expecting('an object with CodeUri, Handler and LambdaConfig'),
  )
  .passthrough()

export const AffiliateSchema = z
  .object(
    {
      AffiliateName: groupName,
      UserNames: z.array(userNameSchema, expecting('a list of at least one IAM user name')).min(1),
      PipelinePath: z.string(expecting('a path')).optional(),
      PipelineDir: z.string(expecting('a folder name')).optional(),
      UserInput: jsonBoolean.optional(),
      ContactEmail: z.string(expecting('an e-mail address')).optional(),
    },
    expecting('an affiliate object with AffiliateName and UserNames'),
  )
  .passthrough()

export const UXDataSchema = z
  .object(
    {Affiliates: z.array(AffiliateSchema, expecting('a list of at least one affiliate (lab group)')).min(1)},
    expecting('an object with Affiliates'),
  )
  .passthrough()

/** ncap's own additions. */
export const NcapSchema = z
  .object(
    {
      ExistingUsers: z.array(userNameSchema, expecting('a list of IAM user names')).optional(),
      LocalImages: z
        .record(
          z.string().regex(AMI_ID, 'an AMI id (ami- and 8 or 17 hex digits) as key'),
          nonEmptyText('an image folder, relative to the config'),
          expecting('an object mapping AMI ids to image folders'),
        )
        .optional(),
    },
    expecting('an object with ExistingUsers and/or LocalImages'),
  )
  .passthrough()

export const StackConfigSchema = z
  .object(
    {
      PipelineName: pipelineName,
      PipelineVersion: z.union([z.string(), z.number()], expecting('a version string')).optional(),
      REGION: regionCode,
      STAGE: z.enum(['develop', 'webdev', 'websubstack'], expecting('develop, webdev or websubstack (or no STAGE)')).optional(),
      Lambda: LambdaSchema,
      UXData: UXDataSchema,
      Ncap: NcapSchema.optional(),
    },
    expecting('a JSON object (a stack config)'),
  )
  .passthrough()

export type RawStackConfig = z.infer<typeof StackConfigSchema>
export type RawLambda = z.infer<typeof LambdaSchema>
export type RawLambdaConfig = z.infer<typeof LambdaConfigSchema>
export type RawAffiliate = z.infer<typeof AffiliateSchema>
export type RawNcap = z.infer<typeof NcapSchema>

/** The keys each object of the format knows, from the schema (one source). */
export const KNOWN_KEYS = {
  root: Object.keys(StackConfigSchema.shape),
  Lambda: Object.keys(LambdaSchema.shape),
  LambdaConfig: Object.keys(LambdaConfigSchema.shape),
  UXData: Object.keys(UXDataSchema.shape),
  Affiliate: Object.keys(AffiliateSchema.shape),
  Ncap: Object.keys(NcapSchema.shape),
} as const

/** Where each known key lives, for "AMI belongs in $.Lambda.LambdaConfig". */
export const KEY_HOMES: Record<keyof typeof KNOWN_KEYS, string> = {
  root: '$',
  Lambda: '$.Lambda',
  LambdaConfig: '$.Lambda.LambdaConfig',
  UXData: '$.UXData',
  Affiliate: '$.UXData.Affiliates[]',
  Ncap: '$.Ncap',
}

/** Numeric fields that real blueprints sometimes write as strings ("MAXCOST": "300"). */
export const NUMERIC_FIELDS = ['EXECUTION_TIMEOUT', 'SSM_TIMEOUT', 'DEPLOY_LIMIT', 'MAXCOST'] as const
