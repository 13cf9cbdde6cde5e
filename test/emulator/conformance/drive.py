"""Runs a JSON list of boto3 calls against the emulator; prints one JSON line per call.

stdin: [{"id", "service", "op", "params"?, "minimal"?, "creds"?, "retry"?}, ...]
env:   CONFORMANCE_ENDPOINT, and the admin key pair in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.

A string value "${id:Path.To.Member}" anywhere in a call is replaced by that
member of an earlier call's response, so a sequence can use what it created
(upload ids, access keys, session credentials). "minimal": true fills the
input's required members from the model (for probing unserved operations),
then "defaults" for the members the input has, then "params". Each answer is the parsed response (timestamps as
{"$timestamp"}, bytes and streams as {"$blob"}) or the error as boto3 mapped it:
its code, its exception class and the HTTP status. "retry": {"code", "times", "ms"}
calls again while the call fails with that code, as AWS's waiters poll eventual state.
"""
import base64
import datetime
import json
import os
import re
import sys
import time

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.response import StreamingBody

ENDPOINT = os.environ["CONFORMANCE_ENDPOINT"]
CONFIG = Config(
    s3={"addressing_style": "path"},
    retries={"total_max_attempts": 1},
    # Operations with a host prefix ({RequestRoute}. for WriteGetObjectResponse) must still reach the local endpoint.
    inject_host_prefix=False,
    connect_timeout=5,
    read_timeout=10,
)
REFERENCE = re.compile(r"^\$\{([^:}]+):([^}]*)\}$")
answers = {}
clients = {}


def client(service, creds):
    key = (service, json.dumps(creds, sort_keys=True))
    if key not in clients:
        extra = {}
        if creds:
            extra = {
                "aws_access_key_id": creds["accessKeyId"],
                "aws_secret_access_key": creds["secretAccessKey"],
                "aws_session_token": creds.get("sessionToken"),
            }
        clients[key] = boto3.client(service, endpoint_url=ENDPOINT, region_name="us-east-1", config=CONFIG, **extra)
    return clients[key]


def lookup(call_id, path):
    value = answers[call_id]
    for part in path.split(".") if path else []:
        value = value[int(part)] if isinstance(value, list) else value[part]
    return value


def resolve(value):
    if isinstance(value, str):
        match = REFERENCE.match(value)
        return lookup(match.group(1), match.group(2)) if match else value
    if isinstance(value, list):
        return [resolve(item) for item in value]
    if isinstance(value, dict) and set(value) == {"$blob"}:
        return base64.b64decode(value["$blob"])
    if isinstance(value, dict):
        return {name: resolve(item) for name, item in value.items()}
    return value


def minimal(shape):
    """The smallest input botocore's validator accepts for a shape: required members only."""
    kind = shape.type_name
    if kind == "structure" and shape.metadata.get("union"):
        first = next(iter(shape.members))
        return {first: minimal(shape.members[first])}
    if kind == "structure":
        return {name: minimal(shape.members[name]) for name in shape.required_members}
    if kind == "list":
        return [minimal(shape.member)] * shape.metadata.get("min", 0)
    if kind == "map":
        return {}
    if kind == "string":
        return shape.enum[0] if shape.enum else "a" * max(shape.metadata.get("min", 1), 1)
    if kind in ("integer", "long"):
        return max(shape.metadata.get("min", 1), 1)
    if kind in ("float", "double"):
        return 1.0
    if kind == "boolean":
        return False
    if kind == "timestamp":
        return datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc)
    if kind == "blob":
        return b"a"
    raise ValueError(f"no minimal value for shape type {kind}")


def plain(value):
    """The parsed response as JSON, keeping which values were timestamps or bytes."""
    if isinstance(value, dict):
        return {name: plain(item) for name, item in value.items() if name != "ResponseMetadata"}
    if isinstance(value, list):
        return [plain(item) for item in value]
    if isinstance(value, datetime.datetime):
        return {"$timestamp": value.isoformat()}
    if isinstance(value, StreamingBody):
        return {"$blob": base64.b64encode(value.read()).decode()}
    if isinstance(value, (bytes, bytearray)):
        return {"$blob": base64.b64encode(bytes(value)).decode()}
    return value


def run(call):
    call = resolve(call)
    api = client(call["service"], call.get("creds"))
    operation = api.meta.service_model.operation_model(call["op"])
    params = {}
    if call.get("minimal") and operation.input_shape is not None:
        params = minimal(operation.input_shape)
        members = operation.input_shape.members
        params.update({name: value for name, value in call.get("defaults", {}).items() if name in members})
    params.update(call.get("params", {}))
    method = getattr(api, _python_name(api, call["op"]))
    try:
        response = method(**params)
    except ClientError as error:
        return {
            "ok": False,
            "code": error.response.get("Error", {}).get("Code"),
            "message": error.response.get("Error", {}).get("Message"),
            "exception": type(error).__name__,
            "status": error.response.get("ResponseMetadata", {}).get("HTTPStatusCode"),
        }
    answers[call["id"]] = response
    return {"ok": True, "status": response["ResponseMetadata"]["HTTPStatusCode"], "response": plain(response)}


def _python_name(api, operation_name):
    for python_name, name in api.meta.method_to_api_mapping.items():
        if name == operation_name:
            return python_name
    raise ValueError(f"boto3 has no method for {operation_name}")


def attempt(call):
    try:
        return run(call)
    except Exception as error:  # a transport failure or a response boto3 could not parse
        return {"ok": False, "crash": f"{type(error).__name__}: {error}"}


for call in json.load(sys.stdin):
    answer = attempt(call)
    retry = call.get("retry")
    for _ in range(retry["times"] if retry else 0):
        if answer.get("ok") or answer.get("code") != retry["code"]:
            break
        time.sleep(retry["ms"] / 1000)
        answer = attempt(call)
    print(json.dumps({"id": call["id"], "op": call["op"], **answer}), flush=True)
