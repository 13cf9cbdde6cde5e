/**
 * Name rules of the AWS resources a stack config names. Each check returns the
 * reasons a value breaks the rule (empty = valid), so a message can say why.
 */

/** S3 bucket names (general purpose buckets), as AWS documents them. */
export function bucketNameProblems(name: string): string[] {
  const problems: string[] = []
  if (name.length < 3 || name.length > 63) problems.push(`must be 3 to 63 characters long (is ${name.length})`)
  if (/[A-Z]/.test(name)) problems.push('must not contain uppercase letters')
  if (name.includes('_')) problems.push('must not contain underscores')
  if (/\s/.test(name)) problems.push('must not contain spaces')
  const others = [...new Set(name.replace(/[a-zA-Z0-9._\-\s]/g, ''))]
  if (others.length > 0) problems.push(`must not contain ${others.map((c) => JSON.stringify(c)).join(', ')}`)
  if (name.length > 0 && !/^[a-z0-9].*[a-z0-9]$|^[a-z0-9]$/.test(name)) problems.push('must start and end with a lowercase letter or digit')
  if (name.includes('..')) problems.push('must not contain two adjacent dots')
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(name)) problems.push('must not be formatted as an IP address')
  for (const prefix of ['xn--', 'sthree-', 'amzn-s3-demo-']) if (name.startsWith(prefix)) problems.push(`must not start with ${prefix}`)
  for (const suffix of ['-s3alias', '--ol-s3', '.mrap', '--x-s3', '--table-s3'])
    if (name.endsWith(suffix)) problems.push(`must not end with ${suffix}`)
  return problems
}

/** CloudFormation stack names: a letter, then letters, digits and hyphens, at most 128. */
export function stackNameProblems(name: string): string[] {
  const problems: string[] = []
  if (!/^[A-Za-z]/.test(name)) problems.push('must start with a letter')
  if (/[^A-Za-z0-9-]/.test(name)) problems.push('may contain only letters, digits and hyphens (no dots)')
  if (name.length > 128) problems.push('must be at most 128 characters')
  return problems
}

const IAM_NAME = /^[A-Za-z0-9+=,.@_-]+$/

/** IAM user names: 1-64 of [A-Za-z0-9+=,.@_-] (e-mail addresses are valid). */
export function iamUserNameProblems(name: string): string[] {
  return iamNameProblems(name, 64)
}

/** IAM group names (as AffiliateName): IAM's characters, at most 64; also a folder name in the bucket. */
export function groupNameProblems(name: string): string[] {
  const problems = iamNameProblems(name, 64)
  if (name === '.' || name === '..') problems.push('must not be . or .. (it is a folder name in the bucket)')
  return problems
}

function iamNameProblems(name: string, max: number): string[] {
  const problems: string[] = []
  if (name.length < 1 || name.length > max) problems.push(`must be 1 to ${max} characters long (is ${name.length})`)
  if (/\s/.test(name)) problems.push('must not contain spaces')
  if (name.includes('/')) problems.push('must not contain /')
  const others = [...new Set(name.replace(/[A-Za-z0-9+=,.@_\-\s/]/g, ''))]
  if (others.length > 0) problems.push(`must not contain ${others.map((c) => JSON.stringify(c)).join(', ')}`)
  if (problems.length === 0 && !IAM_NAME.test(name)) problems.push('may contain only letters, digits and +=,.@_-')
  return problems
}

export const AMI_ID = /^ami-(?:[0-9a-f]{8}|[0-9a-f]{17})$/
/** family.size: p3.2xlarge, m5.16xlarge, u-6tb1.metal, mac2-m2.metal. */
export const INSTANCE_TYPE = /^[a-z][a-z0-9-]*\.[a-z0-9-]+$/
/** us-east-1, ap-southeast-2, us-gov-west-1. */
export const REGION_CODE = /^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/
export const EMAIL_ADDRESS = /^[^\s@]+@[^\s@]+\.[^\s@]+$/
