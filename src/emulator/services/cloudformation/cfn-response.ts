/**
 * The modules AWS puts beside inline `Code.ZipFile` source: `cfn-response`
 * for Node.js and `cfnresponse` for Python, with AWS's documented interface
 * `send(event, context, responseStatus, responseData, physicalResourceId, noEcho)`
 * (Python adds `reason`). Each PUTs the response document to the request's
 * presigned ResponseURL over http or https. Written here from that interface.
 */
import {Buffer} from 'node:buffer'

export const CFN_RESPONSE_JS = `'use strict';
// cfn-response for the ncap emulator: the interface AWS documents for inline custom resource code.
const url = require('url');

exports.SUCCESS = 'SUCCESS';
exports.FAILED = 'FAILED';

exports.send = function (event, context, responseStatus, responseData, physicalResourceId, noEcho) {
  return new Promise(function (resolve, reject) {
    const reason = 'See the details in CloudWatch Log Stream: ' + (context && context.logStreamName);
    const body = JSON.stringify({
      Status: responseStatus,
      Reason: responseStatus === exports.FAILED && responseData && responseData.Reason ? String(responseData.Reason) : reason,
      PhysicalResourceId: physicalResourceId || (context && context.logStreamName),
      StackId: event.StackId,
      RequestId: event.RequestId,
      LogicalResourceId: event.LogicalResourceId,
      NoEcho: noEcho || false,
      Data: responseData,
    });
    console.log('Response body:\\n', body);
    const target = url.parse(event.ResponseURL);
    const transport = target.protocol === 'http:' ? require('http') : require('https');
    const request = transport.request(
      {
        hostname: target.hostname,
        port: target.port,
        path: target.path,
        method: 'PUT',
        headers: {'content-type': '', 'content-length': Buffer.byteLength(body)},
      },
      function (response) {
        response.resume();
        response.on('end', function () {
          console.log('Status code: ' + response.statusCode);
          if (context && typeof context.done === 'function') context.done();
          resolve();
        });
      },
    );
    request.on('error', function (error) {
      console.log('send(..) failed executing https.request(..): ' + error);
      if (context && typeof context.done === 'function') context.done();
      reject(error);
    });
    request.write(body);
    request.end();
  });
};
`

export const CFN_RESPONSE_PY = `# cfnresponse for the ncap emulator: the interface AWS documents for inline custom resource code.
import json
import urllib.request

SUCCESS = "SUCCESS"
FAILED = "FAILED"


def send(event, context, responseStatus, responseData, physicalResourceId=None, noEcho=False, reason=None):
    body = json.dumps({
        "Status": responseStatus,
        "Reason": reason or "See the details in CloudWatch Log Stream: " + str(getattr(context, "log_stream_name", "")),
        "PhysicalResourceId": physicalResourceId or getattr(context, "log_stream_name", None),
        "StackId": event["StackId"],
        "RequestId": event["RequestId"],
        "LogicalResourceId": event["LogicalResourceId"],
        "NoEcho": noEcho,
        "Data": responseData,
    }).encode("utf-8")
    request = urllib.request.Request(event["ResponseURL"], data=body, method="PUT",
                                     headers={"content-type": "", "content-length": str(len(body))})
    try:
        with urllib.request.urlopen(request) as response:
            print("Status code:", response.status)
    except Exception as error:
        print("send(..) failed executing request:", error)
`

/** The zip AWS makes of inline code: the source as index.js / index.py, with the response module beside it. */
export async function inlineZip(runtime: string, source: string): Promise<Buffer> {
  const {ZipFile} = await import('yazl')
  const zip = new ZipFile()
  const mtime = new Date(0)
  if (runtime.startsWith('python')) {
    zip.addBuffer(Buffer.from(source), 'index.py', {mtime, mode: 0o100644})
    zip.addBuffer(Buffer.from(CFN_RESPONSE_PY), 'cfnresponse.py', {mtime, mode: 0o100644})
  } else {
    zip.addBuffer(Buffer.from(source), 'index.js', {mtime, mode: 0o100644})
    zip.addBuffer(Buffer.from(CFN_RESPONSE_JS), 'cfn-response.js', {mtime, mode: 0o100644})
    zip.addBuffer(Buffer.from(CFN_RESPONSE_JS), 'node_modules/cfn-response/index.js', {mtime, mode: 0o100644})
  }
  zip.end()
  const chunks: Buffer[] = []
  for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}
