/**
 * The programs a Lambda worker process runs, kept as text so they run on the
 * host's bare `node` / `python3` with no loader (tsx) in between, whether ncap
 * runs from its TypeScript sources or from dist/. runtime.ts writes them once
 * to a folder named by their content hash and spawns them.
 *
 * The wire between the emulator and a worker is file descriptor 3, a duplex
 * socket carrying one JSON message per line:
 *   worker → emulator  {t:'ready', initMs, version} | {t:'initError', error}
 *                      {t:'log', text} | {t:'result', id, payload} | {t:'error', id, error}
 *   emulator → worker  {t:'invoke', id, payload, deadline, env} | {t:'clock', offsetMs}
 * A worker exits when fd 3 closes (the emulator stopped or died); it is also
 * started under `setpriv --pdeathsig KILL` where available (Python sets the
 * same with prctl), so even a handler stuck in a loop cannot outlive the emulator.
 */

export const NODE_WORKER = String.raw`
import {register} from 'node:module'
import net from 'node:net'
import fs from 'node:fs'
import path from 'node:path'
import util from 'node:util'
import {pathToFileURL} from 'node:url'

const started = performance.now()
const ctl = new net.Socket({fd: 3, readable: true, writable: true})
const send = (message) => ctl.write(JSON.stringify(message) + '\n')
const cfg = JSON.parse(process.env.NCAP_WORKER)
delete process.env.NCAP_WORKER
const parent = process.ppid
setInterval(() => { if (process.ppid !== parent) process.exit(129) }, 1000).unref()

let offset = cfg.offsetMs || 0
const RealDate = Date
const realNow = RealDate.now.bind(RealDate)
const now = () => realNow() + offset
globalThis.Date = new Proxy(RealDate, {
  construct(target, args, newTarget) {
    return Reflect.construct(target, args.length === 0 ? [now()] : args, newTarget)
  },
  apply() {
    return new RealDate(now()).toString()
  },
  get(target, prop, receiver) {
    if (prop === 'now') return now
    return Reflect.get(target, prop, receiver)
  },
})

let current
const emit = (text) => send({t: 'log', text})
const line = (level) => (...args) => emit(new RealDate(now()).toISOString() + '\t' + (current ?? 'undefined') + '\t' + level + '\t' + util.format(...args) + '\n')
console.log = line('INFO')
console.info = line('INFO')
console.warn = line('WARN')
console.error = line('ERROR')
console.debug = line('DEBUG')
console.trace = line('TRACE')
const capture = (chunk, encoding, callback) => {
  emit(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'))
  const done = typeof encoding === 'function' ? encoding : callback
  if (done) done()
  return true
}
process.stdout.write = capture
process.stderr.write = capture

function errorShape(error) {
  if (error instanceof Error) {
    return {errorType: error.name && error.name !== 'Error' ? error.name : error.constructor?.name ?? 'Error', errorMessage: error.message, trace: String(error.stack ?? '').split('\n')}
  }
  return {errorType: typeof error, errorMessage: typeof error === 'string' ? error : JSON.stringify(error) ?? String(error), trace: []}
}

function isEsm(file) {
  if (file.endsWith('.mjs')) return true
  if (file.endsWith('.cjs')) return false
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    try {
      return JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).type === 'module'
    } catch {}
    if (dir === cfg.codeDir || path.dirname(dir) === dir) return false
  }
}

/** Whether ESM resolution from dir finds @aws-sdk by itself (a node_modules on the way up): then no hook is needed. */
function sdkReachable(dir) {
  for (;;) {
    if (fs.existsSync(path.join(dir, 'node_modules', '@aws-sdk'))) return true
    const up = path.dirname(dir)
    if (up === dir) return false
    dir = up
  }
}

async function load() {
  const slash = cfg.handler.lastIndexOf('/')
  const dot = cfg.handler.indexOf('.', slash + 1)
  if (dot < 0) throw Object.assign(new Error('Bad handler ' + cfg.handler + ': expected <file>.<function>'), {name: 'Runtime.MalformedHandlerName'})
  const moduleName = cfg.handler.slice(0, dot)
  const names = cfg.handler.slice(dot + 1).split('.')
  const base = path.resolve(cfg.codeDir, moduleName)
  const file = ['.js', '.mjs', '.cjs'].map((ext) => base + ext).find((candidate) => fs.existsSync(candidate))
  if (!file) throw Object.assign(new Error("Cannot find module '" + moduleName + "'"), {name: 'Runtime.ImportModuleError'})
  if (isEsm(file) && cfg.nodeModules && !sdkReachable(path.dirname(file))) {
    const hook = 'let fallback;export async function initialize(data){fallback=data.fallback}' +
      'export async function resolve(specifier,context,next){try{return await next(specifier,context)}catch(error){' +
      'if(error&&error.code==="ERR_MODULE_NOT_FOUND"&&!/^(\\.|\\/|file:|node:|data:)/.test(specifier))return next(specifier,{...context,parentURL:fallback});throw error}}'
    register('data:text/javascript,' + encodeURIComponent(hook), import.meta.url, {data: {fallback: pathToFileURL(path.join(path.dirname(cfg.nodeModules), 'ncap-lambda-resolve.js')).href}})
  }
  let mod
  try {
    mod = await import(pathToFileURL(file).href)
  } catch (error) {
    const shape = errorShape(error)
    if (error && error.code === 'ERR_MODULE_NOT_FOUND') shape.errorType = 'Runtime.ImportModuleError'
    throw Object.assign(new Error(shape.errorMessage), {name: shape.errorType, stack: error?.stack})
  }
  let fn = mod
  for (const name of names) fn = fn?.[name] ?? (fn === mod ? mod.default?.[name] : undefined)
  if (typeof fn !== 'function') throw Object.assign(new Error(moduleName + '.' + names.join('.') + ' is undefined or not exported'), {name: 'Runtime.HandlerNotFound'})
  return fn
}

let handler
try {
  handler = await load()
  send({t: 'ready', initMs: performance.now() - started, version: process.version})
} catch (error) {
  send({t: 'initError', error: errorShape(error)})
  ctl.end()
  setTimeout(() => process.exit(1), 50).unref()
}

process.on('uncaughtException', (error) => {
  if (current) send({t: 'error', id: current, error: {...errorShape(error), errorType: 'Runtime.UnhandledPromiseRejection'}, exit: true})
  setTimeout(() => process.exit(1), 20)
})
process.on('unhandledRejection', (reason) => {
  if (current) send({t: 'error', id: current, error: {...errorShape(reason), errorType: 'Runtime.UnhandledPromiseRejection'}, exit: true})
  setTimeout(() => process.exit(1), 20)
})

async function invoke(message) {
  current = message.id
  if (typeof message.offsetMs === 'number') offset = message.offsetMs
  for (const [name, value] of Object.entries(message.env ?? {})) process.env[name] = String(value)
  const context = {
    functionName: cfg.functionName,
    functionVersion: cfg.functionVersion,
    invokedFunctionArn: message.invokedArn ?? cfg.functionArn,
    memoryLimitInMB: String(cfg.memoryMb),
    awsRequestId: message.id,
    logGroupName: cfg.logGroup,
    logStreamName: cfg.logStream,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, message.deadline - now()),
  }
  let event
  try {
    event = JSON.parse(message.payload)
  } catch {
    event = message.payload
  }
  try {
    const result =
      handler.length >= 3
        ? await new Promise((resolve, reject) => {
            const returned = handler(event, context, (error, value) => (error ? reject(error) : resolve(value)))
            if (returned && typeof returned.then === 'function') returned.then(resolve, reject)
          })
        : await handler(event, context)
    let payload = JSON.stringify(result)
    if (payload === undefined) payload = 'null'
    current = undefined
    send({t: 'result', id: message.id, payload})
  } catch (error) {
    current = undefined
    send({t: 'error', id: message.id, error: errorShape(error)})
  }
}

let buffer = ''
ctl.setEncoding('utf8')
ctl.on('data', (chunk) => {
  buffer += chunk
  for (let end = buffer.indexOf('\n'); end >= 0; end = buffer.indexOf('\n')) {
    const message = JSON.parse(buffer.slice(0, end))
    buffer = buffer.slice(end + 1)
    if (message.t === 'invoke' && handler) void invoke(message)
    else if (message.t === 'clock') offset = message.offsetMs
  }
})
ctl.on('end', () => process.exit(0))
ctl.on('error', () => process.exit(0))
`

export const PYTHON_WORKER = String.raw`
import json, os, sys, time, socket, importlib, traceback, threading, logging, ctypes

started = time.perf_counter()
try:
    ctypes.CDLL(None).prctl(1, 9)  # PR_SET_PDEATHSIG = SIGKILL: never outlive the emulator
except Exception:
    pass
ctl = socket.socket(fileno=3)
reader = ctl.makefile("rb")
lock = threading.Lock()
cfg = json.loads(os.environ.pop("NCAP_WORKER"))
offset = cfg.get("offsetMs", 0) / 1000.0
_real_time = time.time
time.time = lambda: _real_time() + offset
_real_time_ns = time.time_ns
time.time_ns = lambda: _real_time_ns() + int(offset * 1e9)

def send(message):
    data = (json.dumps(message) + "\n").encode()
    with lock:
        ctl.sendall(data)

class Capture:
    encoding = "utf-8"
    def write(self, text):
        if text:
            send({"t": "log", "text": text})
        return len(text)
    def flush(self):
        pass
    def isatty(self):
        return False

sys.stdout = Capture()
sys.stderr = Capture()
current = {"id": None}

class RequestFormatter(logging.Formatter):
    def format(self, record):
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created + offset)) + ".%03dZ" % record.msecs
        return "[%s]\t%s\t%s\t%s\n" % (record.levelname, stamp, current["id"], record.getMessage())

class RequestHandler(logging.Handler):
    def emit(self, record):
        sys.stdout.write(self.format(record))

root = logging.getLogger()
root.handlers = [RequestHandler()]
root.handlers[0].setFormatter(RequestFormatter())
root.setLevel(logging.WARNING)

def error_shape(error, kind=None):
    return {
        "errorMessage": str(error),
        "errorType": kind or type(error).__name__,
        "requestId": current["id"] or "",
        "stackTrace": traceback.format_tb(error.__traceback__) if getattr(error, "__traceback__", None) else [],
    }

class Context:
    def __init__(self, message):
        self.function_name = cfg["functionName"]
        self.function_version = cfg["functionVersion"]
        self.invoked_function_arn = message.get("invokedArn") or cfg["functionArn"]
        self.memory_limit_in_mb = str(cfg["memoryMb"])
        self.aws_request_id = message["id"]
        self.log_group_name = cfg["logGroup"]
        self.log_stream_name = cfg["logStream"]
        self._deadline = message["deadline"]
    def get_remaining_time_in_millis(self):
        return max(0, int(self._deadline - time.time() * 1000))

def load():
    module_name, _, function_name = cfg["handler"].rpartition(".")
    if not module_name:
        raise RuntimeError("Bad handler '%s': not enough values to unpack (expected 2, got 1)" % cfg["handler"])
    sys.path.insert(0, cfg["codeDir"])
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except Exception as error:
        raise LoadError("Runtime.ImportModuleError", "Unable to import module '%s': %s" % (module_name, error))
    handler = getattr(module, function_name, None)
    if handler is None:
        raise LoadError("Runtime.HandlerNotFound", "Handler '%s' missing on module '%s'" % (function_name, module_name))
    return handler

class LoadError(Exception):
    def __init__(self, kind, message):
        super().__init__(message)
        self.kind = kind

try:
    handler = load()
    send({"t": "ready", "initMs": (time.perf_counter() - started) * 1000, "version": "Python " + sys.version.split()[0]})
except Exception as error:
    send({"t": "initError", "error": error_shape(error, getattr(error, "kind", "Runtime.ImportModuleError"))})
    os._exit(1)

for raw in reader:
    message = json.loads(raw)
    if message["t"] == "clock":
        offset = message["offsetMs"] / 1000.0
        continue
    if message["t"] != "invoke":
        continue
    current["id"] = message["id"]
    if isinstance(message.get("offsetMs"), (int, float)):
        offset = message["offsetMs"] / 1000.0
    for name, value in (message.get("env") or {}).items():
        os.environ[name] = str(value)
    try:
        event = json.loads(message["payload"])
    except Exception:
        event = message["payload"]
    try:
        result = handler(event, Context(message))
        payload = json.dumps(result)
        current["id"] = None
        send({"t": "result", "id": message["id"], "payload": payload})
    except Exception as error:
        shape = error_shape(error)
        current["id"] = None
        send({"t": "error", "id": message["id"], "error": shape})
os._exit(0)
`
