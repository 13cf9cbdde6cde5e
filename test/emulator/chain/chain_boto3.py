"""The whole chain driven by boto3 (chain-boto3.test.ts runs it against a fresh emulator).

argv: ENDPOINT AMI. Prints one JSON line: the result object's text and the states the second Lambda saw.
"""
import io
import json
import sys
import time
import zipfile

import boto3

ENDPOINT, AMI = sys.argv[1], sys.argv[2]
BUCKET = "chain-boto3"
ALL = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})


def trust(service):
    return json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]})


def client(name):
    return boto3.client(name, endpoint_url=ENDPOINT, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")


def zipped(source):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.mjs", source)
    return buffer.getvalue()


SUBMIT = sys.stdin.read().split("\n----\n")
iam, lam, s3, events = client("iam"), client("lambda"), client("s3"), client("events")
submit_role = iam.create_role(RoleName="b3-submit", AssumeRolePolicyDocument=trust("lambda.amazonaws.com"))["Role"]["Arn"]
iam.put_role_policy(RoleName="b3-submit", PolicyName="all", PolicyDocument=ALL)
watch_role = iam.create_role(RoleName="b3-watch", AssumeRolePolicyDocument=trust("lambda.amazonaws.com"))["Role"]["Arn"]
iam.put_role_policy(RoleName="b3-watch", PolicyName="all", PolicyDocument=ALL)
iam.create_role(RoleName="b3-instance", AssumeRolePolicyDocument=trust("ec2.amazonaws.com"))
iam.put_role_policy(
    RoleName="b3-instance",
    PolicyName="results",
    PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{BUCKET}/results/*"}]}),
)
iam.create_instance_profile(InstanceProfileName="b3-profile")
iam.add_role_to_instance_profile(InstanceProfileName="b3-profile", RoleName="b3-instance")
s3.create_bucket(Bucket=BUCKET)
submit = lam.create_function(
    FunctionName="b3-submit", Runtime="nodejs22.x", Role=submit_role, Handler="index.handler", Timeout=60, MemorySize=512,
    Environment={"Variables": {"AMI": AMI, "PROFILE": "b3-profile"}}, Code={"ZipFile": zipped(SUBMIT[0])},
)
watch = lam.create_function(
    FunctionName="b3-watch", Runtime="nodejs22.x", Role=watch_role, Handler="index.handler",
    Environment={"Variables": {"BUCKET": BUCKET}}, Code={"ZipFile": zipped(SUBMIT[1])},
)
lam.add_permission(FunctionName="b3-submit", StatementId="s3", Action="lambda:InvokeFunction", Principal="s3.amazonaws.com", SourceArn=f"arn:aws:s3:::{BUCKET}")
s3.put_bucket_notification_configuration(
    Bucket=BUCKET,
    NotificationConfiguration={"LambdaFunctionConfigurations": [{
        "LambdaFunctionArn": submit["FunctionArn"], "Events": ["s3:ObjectCreated:*"],
        "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "inputs/"}]}},
    }]},
)
rule = events.put_rule(Name="b3-states", EventPattern=json.dumps({
    "source": ["aws.ec2"], "detail-type": ["EC2 Instance State-change Notification"], "detail": {"state": ["shutting-down", "terminated"]},
}))
lam.add_permission(FunctionName="b3-watch", StatementId="events", Action="lambda:InvokeFunction", Principal="events.amazonaws.com", SourceArn=rule["RuleArn"])
events.put_targets(Rule="b3-states", Targets=[{"Id": "watch", "Arn": watch["FunctionArn"]}])

s3.put_object(Bucket=BUCKET, Key="inputs/data.txt", Body=b"raw data\n")

deadline = time.time() + 75
result = ""
while time.time() < deadline and not result:
    try:
        result = s3.get_object(Bucket=BUCKET, Key="results/inputs/data.txt.txt")["Body"].read().decode()
    except s3.exceptions.NoSuchKey:
        time.sleep(0.2)
states = []
while time.time() < deadline + 60 and not {"shutting-down", "terminated"} <= set(states):
    states = [o["Key"].split("/")[-1] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="states/").get("Contents", [])]
    time.sleep(0.2)
print(json.dumps({"result": result, "states": sorted(states)}))
