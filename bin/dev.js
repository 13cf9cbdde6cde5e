#!/usr/bin/env -S node --import=tsx --no-warnings
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'

import {execute} from '@oclif/core/execute'

await execute({development: true, dir: import.meta.url})
