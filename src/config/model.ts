/**
 * The pipeline as the rest of ncap sees it: a stack config after loading,
 * validation and NeuroCAAS's defaults. The raw file's shape lives in schema.ts
 * (its types are derived from the schema); this is the one normalized form that
 * the compiler, `validate`, `init` and the job commands read.
 */

export type Stage = 'develop' | 'webdev' | 'websubstack'

export interface Pipeline {
  /** The config file this came from (absolute). */
  file: string
  /** The folder holding the config (absolute); relative paths in the config resolve from here. */
  dir: string
  /** PipelineName: the bucket name and the stack name. */
  name: string
  /** PipelineVersion, when given. */
  version?: string
  /** REGION. */
  region: string
  /** STAGE, when given. */
  stage?: Stage
  /** Which submit handler the stack deploys. */
  submitHandler: SubmitHandler
  /** Lambda.Launch / LambdaConfig.LAUNCH: false makes the submit handler a dry run. */
  launch: boolean
  /** PostCodeUri/PostHandler/PostTrigger: a post-processing Lambda on objects created under each group's results. */
  postProcess?: PostProcess
  /** Lambda.Requirements, when given (a pip requirements file named by NeuroCAAS blueprints). */
  requirements?: string
  instance: InstanceSettings
  groups: Group[]
  /** Every user once (declared once even when in several groups). */
  users: User[]
  /** ncap's own additions to the format. */
  local: LocalSettings
}

export type SubmitHandler =
  /** ncap's own submit handler from lambda_repo/submit_start (the seed's and NeuroCAAS's handler names select it). */
  | {kind: 'ncap'; declaredCodeUri: string; declaredHandler: string}
  /** A folder of the user's own handler code, beside the config. */
  | {kind: 'custom'; codeDir: string; handler: string}

export interface PostProcess {
  handler: string
  /** The handler module's language: NeuroCAAS's PostHandlers are Python, deployed on a python3.x runtime (absent: node). */
  language?: 'python' | 'node'
  /** Key suffix that triggers it (PostTrigger); undefined = every object created under results/. */
  trigger?: string
  /** The code folder, absolute, when it exists beside the config; undefined when it does not (build leaves the function out). */
  codeDir?: string
  declaredCodeUri: string
}

export interface InstanceSettings {
  ami: string
  instanceType: string
  region: string
  /** SECURITY_GROUPS: names or ids of existing groups, referenced not created; empty = the stack creates one. */
  securityGroups: string[]
  /** IAM_ROLE: an existing instance role/profile, referenced not created; undefined = the stack creates one. */
  iamRole?: string
  /** KEY_NAME: an existing key pair. */
  keyName?: string
  workingDirectory?: string
  /** COMMAND, with at most four {} slots (bucket, data key, result path, config key). */
  command: string
  /** How many {} slots COMMAND has (0..4). */
  commandSlots: number
  shutdownBehavior: 'terminate' | 'stop'
  config: string
  missingConfigError: string
  executionTimeout: number
  ssmTimeout: number
  logDir: string
  outDir: string
  inDir: string
  logFile: string
  deployLimit: number
  maxCost: number
  monitor: boolean
}

export interface Group {
  /** AffiliateName: the group's folder in the bucket and (with the pipeline name) its IAM group. */
  name: string
  /** User names as declared in this group, in order. */
  userNames: string[]
  /** UserInput: false = the group's jobs are triggered by its results folder instead (chaining). */
  userInput: boolean
  contactEmail?: string
  pipelinePath?: string
  pipelineDir?: string
}

export interface User {
  /** As first declared. IAM compares user names case-insensitively. */
  name: string
  /** Groups the user is added to, in declaration order. */
  groups: string[]
  /**
   * true: the user already exists (Ncap.ExistingUsers, or declared by another pipeline
   * of the workspace that creates it): the stack adds it to its groups and creates nothing.
   */
  existing: boolean
  /** When existing because another pipeline of the workspace creates it: that pipeline's name. */
  createdBy?: string
}

export interface LocalSettings {
  /** Ncap.LocalImages: AMI id -> image folder (absolute) that the emulator launches instances from. */
  images: Record<string, string>
}

/** One finding about a config or a template. */
export interface Diagnostic {
  severity: 'error' | 'warning'
  /** The file it is about. */
  file: string
  /** JSON path in that file: $.Lambda.LambdaConfig.COMMAND, $.UXData.Affiliates[1].UserNames[0] */
  path: string
  message: string
  expected?: string
  found?: string
  /** A did-you-mean, for a misspelt key. */
  suggestion?: string
  /** Which rule found it (for --json consumers and tests). */
  rule: string
}
