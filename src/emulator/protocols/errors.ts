/**
 * Renders any AwsError in the wire shape of the protocol its service speaks,
 * so SDK v3, AWS CLI and boto3 map it to the right exception class:
 *   restxml  (S3)              <Error><Code/><Message/>…<RequestId/><HostId/></Error>
 *   query    (IAM, STS, CFN)   <ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>
 *   ec2      (EC2)             <Response><Errors><Error><Code/><Message/></Error></Errors><RequestID/></Response>
 *   json     (SSM, Logs, …)    {"__type": code, "message": …}
 *   restjson (Lambda)          x-amzn-ErrorType: code, {"Type": …, "message": …}
 */
import type {IncomingMessage, ServerResponse} from 'node:http'
import {AwsError} from '../errors.js'
import {QUERY_XMLNS} from './query.js'
import {sendBody} from './respond.js'
import {escapeXml, writeChildren, XML_DECLARATION} from './xml.js'

export type Protocol = 'restxml' | 'query' | 'ec2' | 'json' | 'restjson'

/** Where an error goes: a RequestContext fits, and so does the core before it has one. */
export interface ErrorTarget {
  req?: IncomingMessage
  res: ServerResponse
  requestId: string
  service?: string
}

const PROTOCOLS: Record<string, Protocol> = {
  s3: 'restxml',
  s3express: 'restxml',
  's3-object-lambda': 'restxml',
  iam: 'query',
  sts: 'query',
  cloudformation: 'query',
  sns: 'query',
  elasticloadbalancing: 'query',
  autoscaling: 'query',
  rds: 'query',
  ses: 'query',
  ec2: 'ec2',
  lambda: 'restjson',
  apigateway: 'restjson',
  'execute-api': 'restjson',
}

/** The protocol a service speaks, by SigV4 signing name; JSON (1.0/1.1) for the many that speak it (ssm, logs, events, secretsmanager, …). */
export function protocolOf(signingName: string): Protocol {
  return PROTOCOLS[signingName] ?? 'json'
}

/** Turns anything thrown by a handler into an AwsError (non-AWS errors become InternalError, their message kept for the log). */
export function asAwsError(error: unknown): AwsError {
  if (error instanceof AwsError) return error
  const message = error instanceof Error ? error.message : String(error)
  return new AwsError('InternalError', `Internal error in the emulator: ${message}`, 500)
}

function jsonContentType(req: IncomingMessage | undefined): string {
  const type = req?.headers['content-type']
  return typeof type === 'string' && type.startsWith('application/x-amz-json-1.0')
    ? 'application/x-amz-json-1.0'
    : 'application/x-amz-json-1.1'
}

export function sendError(target: ErrorTarget, protocol: Protocol, error: AwsError): void {
  const {res, requestId} = target
  if (res.headersSent) {
    // The answer is already under way (a streamed GET failed): all we can do is cut it short.
    res.destroy(error)
    return
  }
  const code = escapeXml(error.code)
  const message = escapeXml(error.message)
  switch (protocol) {
    case 'restxml': {
      const extra = writeChildren(error.extra).join('')
      const body = `${XML_DECLARATION}<Error><Code>${code}</Code><Message>${message}</Message>${extra}<RequestId>${requestId}</RequestId><HostId>${requestId}</HostId></Error>`
      sendBody(res, error.status, 'application/xml', body)
      return
    }
    case 'query': {
      const xmlns = target.service ? QUERY_XMLNS[target.service] : undefined
      const open = xmlns ? `<ErrorResponse xmlns="${xmlns}">` : '<ErrorResponse>'
      const body = `${XML_DECLARATION}${open}<Error><Type>${error.fault}</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`
      sendBody(res, error.status, 'text/xml', body)
      return
    }
    case 'ec2': {
      const body = `${XML_DECLARATION}<Response><Errors><Error><Code>${code}</Code><Message>${message}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`
      sendBody(res, error.status, 'text/xml;charset=UTF-8', body)
      return
    }
    case 'json': {
      const body = JSON.stringify({__type: error.code, message: error.message, ...error.extra})
      sendBody(res, error.status, jsonContentType(target.req), body, {'x-amzn-ErrorType': error.code})
      return
    }
    case 'restjson': {
      const body = JSON.stringify({Type: error.fault === 'Sender' ? 'User' : 'Service', message: error.message, ...error.extra})
      sendBody(res, error.status, 'application/json', body, {'x-amzn-ErrorType': error.code})
      return
    }
  }
}
