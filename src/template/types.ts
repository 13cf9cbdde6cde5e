/** The shapes of a CloudFormation template as ncap writes it. */

export interface Resource {
  Type: string
  Properties?: Record<string, unknown>
  DependsOn?: string[]
  Metadata?: Record<string, unknown>
  DeletionPolicy?: 'Delete' | 'Retain' | 'Snapshot'
  UpdateReplacePolicy?: 'Delete' | 'Retain' | 'Snapshot'
}

export interface Parameter {
  Type: 'String' | 'Number' | 'CommaDelimitedList'
  Description?: string
  Default?: string
}

export interface Output {
  Description?: string
  Value: unknown
}

export type Template = {
  AWSTemplateFormatVersion: '2010-09-09'
  Description?: string
  Metadata?: Record<string, unknown>
  Parameters?: Record<string, Parameter>
  Conditions?: Record<string, unknown>
  Resources: Record<string, Resource>
  Outputs?: Record<string, Output>
}

export interface CompiledStack {
  main: Template
  /** File name relative to the config folder (e.g. 'compiled_nested/Identity1.json') -> template. */
  nested: Record<string, Template>
  /** What build should tell the user. */
  notes: string[]
}

/** CloudFormation's per-template quotas (body size: a template read from S3). */
export const QUOTAS = {resources: 500, outputs: 200, parameters: 200, bodyBytes: 1_000_000} as const

export const COMPILED_TEMPLATE = 'compiled_template.json'
export const NESTED_DIR = 'compiled_nested'

/**
 * Resources, outputs and parameters being collected for one template. Adding an
 * id twice is a bug in the compiler, so it throws.
 */
export class TemplateParts {
  readonly resources: Record<string, Resource> = {}
  readonly outputs: Record<string, Output> = {}
  readonly parameters: Record<string, Parameter> = {}

  resource(id: string, resource: Resource): string {
    if (id in this.resources) throw new Error(`duplicate logical id ${id}`)
    this.resources[id] = resource
    return id
  }

  output(id: string, output: Output): void {
    if (id in this.outputs) throw new Error(`duplicate output ${id}`)
    this.outputs[id] = output
  }

  parameter(id: string, parameter: Parameter): void {
    if (id in this.parameters) throw new Error(`duplicate parameter ${id}`)
    this.parameters[id] = parameter
  }
}

export const ref = (id: string) => ({Ref: id})
export const getAtt = (id: string, attribute: string) => ({'Fn::GetAtt': [id, attribute]})
export const sub = (text: string) => ({'Fn::Sub': text})
