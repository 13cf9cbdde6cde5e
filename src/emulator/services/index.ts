/**
 * Every emulated service, by SigV4 signing name, loaded on first use so that
 * start-up stays near a bare node:http server. Adding a service is one line here
 * and one folder beside this file (index.ts default-exports a ServiceFactory).
 */
import type {ServiceFactory} from '../types.js'

export const serviceModules: Record<string, () => Promise<{default: ServiceFactory}>> = {
  s3: () => import('./s3/index.js'),
  iam: () => import('./iam/index.js'),
  sts: () => import('./sts/index.js'),
  secretsmanager: () => import('./secretsmanager/index.js'),
  lambda: () => import('./lambda/index.js'),
  logs: () => import('./logs/index.js'),
  events: () => import('./events/index.js'),
  ec2: () => import('./ec2/index.js'),
  ssm: () => import('./ssm/index.js'),
  cloudformation: () => import('./cloudformation/index.js'),
  ncap: () => import('./ncap/index.js'),
}
