"""Drives the emulator with boto3: core S3, IAM and STS calls; prints one JSON report.

Usage: python3 boto3_smoke.py ENDPOINT. The ava test asserts the report; errors are
caught per step and reported with botocore's error code, so a failure names its call.
"""
import hashlib
import json
import os
import sys

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

endpoint = sys.argv[1]
config = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1})


def client(service, key_id="test", secret="test"):
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        config=config,
    )


def error_code(call):
    try:
        call()
    except ClientError as error:
        return error.response["Error"]["Code"]
    return None


report = {}
s3 = client("s3")
s3.create_bucket(Bucket="smoke-boto3")
s3.put_object(Bucket="smoke-boto3", Key="notes/hello.txt", Body=b"hello from boto3", ContentType="text/plain")
got = s3.get_object(Bucket="smoke-boto3", Key="notes/hello.txt")
report["get"] = {"body": got["Body"].read().decode(), "contentType": got["ContentType"]}

big = os.urandom(12 * 1024 * 1024)
big_path = os.path.join(os.environ.get("SMOKE_WORK", "/tmp"), "boto3-big.bin")
with open(big_path, "wb") as handle:
    handle.write(big)
# upload_file switches to multipart above its 8 MB threshold.
s3.upload_file(big_path, "smoke-boto3", "data/big.bin")
head = s3.head_object(Bucket="smoke-boto3", Key="data/big.bin")
report["big"] = {
    "size": head["ContentLength"],
    "etag": head["ETag"],
    "sameBytes": hashlib.sha256(s3.get_object(Bucket="smoke-boto3", Key="data/big.bin")["Body"].read()).hexdigest()
    == hashlib.sha256(big).hexdigest(),
}
listed = s3.list_objects_v2(Bucket="smoke-boto3", Prefix="notes/", Delimiter="/")
report["list"] = [item["Key"] for item in listed.get("Contents", [])]
report["buckets"] = [bucket["Name"] for bucket in s3.list_buckets()["Buckets"]]
report["missingKey"] = error_code(lambda: s3.get_object(Bucket="smoke-boto3", Key="nope"))
report["missingBucket"] = error_code(lambda: s3.list_objects_v2(Bucket="no-such-bucket-boto3"))
s3.delete_object(Bucket="smoke-boto3", Key="notes/hello.txt")
s3.delete_object(Bucket="smoke-boto3", Key="data/big.bin")
s3.delete_bucket(Bucket="smoke-boto3")

iam = client("iam")
sts = client("sts")
report["root"] = sts.get_caller_identity()["Arn"]
iam.create_user(UserName="smoke-bob")
key = iam.create_access_key(UserName="smoke-bob")["AccessKey"]
report["users"] = [user["UserName"] for user in iam.list_users()["Users"]]
report["bob"] = client("sts", key["AccessKeyId"], key["SecretAccessKey"]).get_caller_identity()["Arn"]
report["badSecret"] = error_code(lambda: client("sts", key["AccessKeyId"], "wrong").get_caller_identity())
report["duplicateUser"] = error_code(lambda: iam.create_user(UserName="smoke-bob"))
iam.delete_access_key(UserName="smoke-bob", AccessKeyId=key["AccessKeyId"])
iam.delete_user(UserName="smoke-bob")
report["deletedUser"] = error_code(lambda: iam.get_user(UserName="smoke-bob"))

print(json.dumps(report))
