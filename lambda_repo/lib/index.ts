/** The job protocol, shared by the handlers and the CLI. */
export * from './analysis-config.js'
export * from './certificate.js'
export * from './command.js'
export * from './layout.js'
export * from './pricing.js'
export * from './records.js'
export * from './s3-event.js'
export * from './submit-file.js'
