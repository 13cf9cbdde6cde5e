/** The CloudFormation compiler's public face. */
export {CAPABILITIES, compilePipeline} from './compile.js'
export {groupPolicyDocument} from './identity.js'
export {quotaUse, quotaViolations} from './nested.js'
export {serializeTemplate} from './serialize.js'
export {COMPILED_TEMPLATE, type CompiledStack, type Output, type Parameter, QUOTAS, type Resource, type Template} from './types.js'
export {writeCompiled} from './write.js'
