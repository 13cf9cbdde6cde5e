"""boto3 drives an S3-triggered Python Lambda: a role, a python3.12 function
whose code writes a result object with its own role credentials, the s3
permission, the bucket notification, then an upload (a key with spaces) and
a wait for the result. Prints one JSON report."""
import io
import json
import sys
import time
import zipfile

import boto3
from botocore.config import Config

endpoint = sys.argv[1]
config = Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"})
kw = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test", config=config)
iam = boto3.client("iam", **kw)
lam = boto3.client("lambda", **kw)
s3 = boto3.client("s3", **kw)
report = {}

trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
role = iam.create_role(RoleName="py-trigger", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
iam.put_role_policy(
    RoleName="py-trigger",
    PolicyName="write-results",
    PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject"], "Resource": "arn:aws:s3:::py-uploads/*"}]}),
)

CODE = '''
import json, os, urllib.parse
import boto3

s3 = boto3.client("s3")

def handler(event, context):
    record = event["Records"][0]
    bucket = record["s3"]["bucket"]["name"]
    raw_key = record["s3"]["object"]["key"]
    key = urllib.parse.unquote_plus(raw_key)
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
    who = boto3.client("sts").get_caller_identity()["Arn"]
    result = {"rawKey": raw_key, "key": key, "words": len(body.split()), "event": record["eventName"], "by": who, "fn": context.function_name}
    s3.put_object(Bucket=bucket, Key="results/" + key + ".json", Body=json.dumps(result).encode())
    print("wrote result for", key)
    return result
'''
buffer = io.BytesIO()
with zipfile.ZipFile(buffer, "w") as archive:
    archive.writestr("app.py", CODE)
made = lam.create_function(FunctionName="py-trigger", Runtime="python3.12", Role=role, Handler="app.handler", Code={"ZipFile": buffer.getvalue()}, Timeout=30)
report["runtime"] = made["Runtime"]
lam.get_waiter("function_active_v2").wait(FunctionName="py-trigger")
s3.create_bucket(Bucket="py-uploads")
try:
    s3.put_bucket_notification_configuration(
        Bucket="py-uploads",
        NotificationConfiguration={"LambdaFunctionConfigurations": [{"LambdaFunctionArn": made["FunctionArn"], "Events": ["s3:ObjectCreated:*"], "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "in/"}]}}}]},
    )
except Exception as error:
    report["withoutPermission"] = type(error).__name__ + ": " + str(error)
lam.add_permission(FunctionName="py-trigger", StatementId="s3", Action="lambda:InvokeFunction", Principal="s3.amazonaws.com", SourceArn="arn:aws:s3:::py-uploads", SourceAccount="000000000000")
s3.put_bucket_notification_configuration(
    Bucket="py-uploads",
    NotificationConfiguration={"LambdaFunctionConfigurations": [{"LambdaFunctionArn": made["FunctionArn"], "Events": ["s3:ObjectCreated:*"], "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "in/"}]}}}]},
)
s3.put_object(Bucket="py-uploads", Key="in/my data file.txt", Body=b"one two three four")
deadline = time.time() + 30
while time.time() < deadline:
    try:
        report["result"] = json.loads(s3.get_object(Bucket="py-uploads", Key="results/in/my data file.txt.json")["Body"].read())
        break
    except s3.exceptions.NoSuchKey:
        time.sleep(0.1)
print(json.dumps(report))
