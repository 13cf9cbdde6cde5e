/**
 * A fake Lambda service for EventBridge tests: it exposes only the internal
 * API (invokeAsService), records every invocation, and refuses functions that
 * do not exist or that a test marked as not allowing events.amazonaws.com.
 */
import {AwsError} from '../../../src/emulator/errors.js'
import type {LambdaInternal, ServiceInvocation} from '../../../src/emulator/internal.js'
import type {EmulatedService, ServiceFactory} from '../../../src/emulator/types.js'

export interface FakeLambda {
  factory: ServiceFactory
  calls: ServiceInvocation[]
  /** Function names that exist; all others are ResourceNotFoundException. */
  functions: Set<string>
  /** Function names whose policy does not allow events.amazonaws.com. */
  denied: Set<string>
  /** Resolves on the next invocation. */
  next(): Promise<ServiceInvocation>
}

const nameOf = (functionName: string) => functionName.split(':function:')[1]?.split(':')[0] ?? functionName

export function fakeLambda(functions: string[] = []): FakeLambda {
  const calls: ServiceInvocation[] = []
  let waiters: ((call: ServiceInvocation) => void)[] = []
  const fake: FakeLambda = {
    calls,
    functions: new Set(functions),
    denied: new Set(),
    next: () => new Promise((resolve) => waiters.push(resolve)),
    factory: (): EmulatedService => {
      const internal: LambdaInternal = {
        async invokeAsService(invocation) {
          const name = nameOf(invocation.functionName)
          if (!fake.functions.has(name))
            throw new AwsError('ResourceNotFoundException', `Function not found: ${invocation.functionName}`, 404)
          if (fake.denied.has(name)) {
            throw new AwsError(
              'AccessDeniedException',
              `${invocation.principal} is not allowed to invoke ${name} for ${invocation.sourceArn}`,
              403,
            )
          }
          calls.push(invocation)
          const pending = waiters
          waiters = []
          for (const resolve of pending) resolve(invocation)
          return {statusCode: 202, requestId: `fake-${calls.length}`}
        },
        checkServicePermission: (functionName) =>
          fake.denied.has(nameOf(functionName)) ? {allowed: false, reason: 'denied by the fake'} : {allowed: true},
        functionArn: (functionName) =>
          fake.functions.has(nameOf(functionName)) ? `arn:aws:lambda:us-east-1:000000000000:function:${nameOf(functionName)}` : undefined,
      }
      return {
        signingName: 'lambda',
        internal,
        async handle(ctx) {
          ctx.req.resume()
          ctx.res.writeHead(501).end()
        },
      }
    },
  }
  return fake
}
