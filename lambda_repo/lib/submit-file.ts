/**
 * What users upload into `<group>/submissions/`: a submit file that starts a job,
 * or a cancel request. One zod schema each; the types are derived from them.
 */
import {z} from 'zod'

/** Characters that would break out of COMMAND's quoted slots on the instance's shell. */
const UNSAFE_IN_COMMAND = /["`$\\\r\n]/

const key = z
  .string()
  .min(1, 'is empty')
  .refine((k) => !UNSAFE_IN_COMMAND.test(k), 'holds a character the instance command cannot carry (" ` $ \\ or a line break)')

export const submitFileSchema = z
  .object({
    dataname: z.union([key, z.array(key).min(1, 'lists no dataset')]),
    configname: key,
    timestamp: z
      .union([z.string(), z.number()])
      .transform((t) => String(t))
      .refine((t) => /^[A-Za-z0-9._-]{1,64}$/.test(t), 'must be 1 to 64 letters, digits, dots, dashes or underscores'),
    instance_type: z
      .string()
      .regex(/^[a-z][a-z0-9-]*\d[a-z0-9-]*\.[a-z0-9]+$/, 'is not an EC2 instance type (e.g. m5.xlarge)')
      .optional(),
  })
  .passthrough()

export type SubmitFile = z.infer<typeof submitFileSchema>

export const cancelRequestSchema = z.object({cancel: z.string().min(1)}).strict()
export type CancelRequest = z.infer<typeof cancelRequestSchema>

export type ParsedSubmission =
  | {kind: 'submit'; submit: SubmitFile; datasets: string[]}
  | {kind: 'cancel'; jobId: string}
  | {kind: 'invalid'; reason: string; timestamp?: string}

/** Parses an uploaded submissions/ file; never throws. */
export function parseSubmission(text: string): ParsedSubmission {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    return {kind: 'invalid', reason: `the submit file is not valid JSON: ${(error as Error).message}`}
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && 'cancel' in value) {
    const cancel = cancelRequestSchema.safeParse(value)
    if (cancel.success) return {kind: 'cancel', jobId: cancel.data.cancel}
    return {kind: 'invalid', reason: `the cancel request must be {"cancel": "<job id>"} and nothing else`}
  }
  const parsed = submitFileSchema.safeParse(value)
  if (!parsed.success) {
    const raw = value as {timestamp?: unknown}
    const timestamp = typeof raw?.timestamp === 'string' || typeof raw?.timestamp === 'number' ? String(raw.timestamp) : undefined
    const problems = parsed.error.issues.map((i) => {
      const path = i.path.length > 0 ? i.path.join('.') : 'the file'
      return i.code === 'invalid_type' && i.received === 'undefined' ? `"${path}" is missing` : `"${path}" ${i.message}`
    })
    return {kind: 'invalid', reason: `the submit file is not valid: ${problems.join('; ')}`, timestamp}
  }
  const datasets = Array.isArray(parsed.data.dataname) ? parsed.data.dataname : [parsed.data.dataname]
  return {kind: 'submit', submit: parsed.data, datasets: [...new Set(datasets)]}
}
