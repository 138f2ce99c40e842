#!/usr/bin/env python3
"""boto3 against `s3sim serve`: create bucket, put small, multipart upload of
20 MiB (upload_fileobj and the low-level calls), ranged get, head, list with
paging, list versions, list multipart uploads with paging, copy, delete, delete-objects, abort multipart, a
presigned URL, a bad signature (403) and injected faults seen by the client.

Usage: boto3_test.py SERVE-COMMAND...   (e.g. build/bin/s3sim serve)
Exit 77 (skipped) when boto3 is not importable.
"""
import io
import os
import re
import subprocess
import sys
import time
import urllib.request

SKIP = 77
AK, SK = "interopkey", "interop/secret+key"

try:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError, ConnectionError as BotoConnError
    from boto3.s3.transfer import TransferConfig
except ImportError as e:  # pragma: no cover
    print(f"SKIP: boto3 is not importable ({e}); Debian package python3-boto3")
    sys.exit(SKIP)


def start(cmd, *opts):
    p = subprocess.Popen(list(cmd) + ["--port", "0", "--access-key", AK, "--secret-key", SK]
                         + list(opts), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    m = re.search(r"endpoint=(\S+)", line)
    if not m:
        p.kill()
        raise SystemExit(f"FAIL: the server did not start: {line!r} {p.stderr.read()}")
    return p, m.group(1)


def client(endpoint, secret=SK, **kw):
    cfg = Config(signature_version="s3v4", retries={"max_attempts": 1, "mode": "standard"},
                 s3={"addressing_style": kw.pop("style", "path")}, **kw)
    return boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=AK,
                        aws_secret_access_key=secret, region_name="us-east-1", config=cfg)


def expect_error(code, fn, *a, **kw):
    try:
        fn(*a, **kw)
    except ClientError as e:
        got = e.response["Error"]["Code"]
        assert got == code, f"want {code}, got {got}: {e}"
        return
    raise AssertionError(f"want {code}, the call succeeded")


def objects(s3, bucket):
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="dir/small", Body=b"small object")
    assert s3.get_object(Bucket=bucket, Key="dir/small")["Body"].read() == b"small object"
    r = s3.get_object(Bucket=bucket, Key="dir/small", Range="bytes=2-6")
    assert r["Body"].read() == b"all o" and r["ContentRange"] == "bytes 2-6/12", r
    h = s3.head_object(Bucket=bucket, Key="dir/small")
    assert h["ContentLength"] == 12 and len(h["ETag"].strip('"')) == 32, h
    expect_error("404", s3.head_object, Bucket=bucket, Key="absent")
    expect_error("NoSuchKey", s3.get_object, Bucket=bucket, Key="absent")


def multipart(s3, bucket):
    data = os.urandom(20 * 1024 * 1024)
    tc = TransferConfig(multipart_threshold=8 * 1024 * 1024, multipart_chunksize=8 * 1024 * 1024)
    s3.upload_fileobj(io.BytesIO(data), bucket, "big", Config=tc)
    h = s3.head_object(Bucket=bucket, Key="big")
    assert h["ContentLength"] == len(data) and h["ETag"].endswith('-3"'), h
    out = io.BytesIO()
    s3.download_fileobj(bucket, "big", out, Config=tc)
    assert out.getvalue() == data, "20 MiB object differs after the round trip"
    up = s3.create_multipart_upload(Bucket=bucket, Key="aborted")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="aborted", UploadId=up, PartNumber=1, Body=b"x" * 1024)
    s3.abort_multipart_upload(Bucket=bucket, Key="aborted", UploadId=up)
    expect_error("NoSuchUpload", s3.upload_part, Bucket=bucket, Key="aborted", UploadId=up,
                 PartNumber=2, Body=b"y")
    up = s3.create_multipart_upload(Bucket=bucket, Key="copied-parts")["UploadId"]
    p1 = s3.upload_part_copy(Bucket=bucket, Key="copied-parts", UploadId=up, PartNumber=1,
                             CopySource={"Bucket": bucket, "Key": "big"},
                             CopySourceRange="bytes=0-5242879")
    p2 = s3.upload_part(Bucket=bucket, Key="copied-parts", UploadId=up, PartNumber=2, Body=b"tail")
    s3.complete_multipart_upload(
        Bucket=bucket, Key="copied-parts", UploadId=up,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": p1["CopyPartResult"]["ETag"]},
                                   {"PartNumber": 2, "ETag": p2["ETag"]}]})
    got = s3.get_object(Bucket=bucket, Key="copied-parts")["Body"].read()
    assert got == data[:5242880] + b"tail", "upload part copy"


def listing(s3, bucket):
    for i in range(7):
        s3.put_object(Bucket=bucket, Key=f"page/k{i}", Body=b"p")
    pages = list(s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="page/",
                                                               PaginationConfig={"PageSize": 3}))
    keys = [o["Key"] for p in pages for o in p.get("Contents", [])]
    assert len(pages) == 3 and keys == [f"page/k{i}" for i in range(7)], (len(pages), keys)
    r = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
    assert {p["Prefix"] for p in r.get("CommonPrefixes", [])} == {"dir/", "page/"}, r
    v1 = list(s3.get_paginator("list_objects").paginate(Bucket=bucket, Prefix="page/",
                                                        PaginationConfig={"PageSize": 2}))
    assert sum(len(p.get("Contents", [])) for p in v1) == 7
    vs = s3.list_object_versions(Bucket=bucket, Prefix="page/")
    assert len(vs["Versions"]) == 7 and all(v["VersionId"] == "null" for v in vs["Versions"])


def copy_delete(s3, bucket):
    s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "dir/small"})
    assert s3.get_object(Bucket=bucket, Key="copy")["Body"].read() == b"small object"
    s3.delete_object(Bucket=bucket, Key="copy")
    expect_error("NoSuchKey", s3.get_object, Bucket=bucket, Key="copy")
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": f"page/k{i}"}
                                                            for i in range(7)]})
    assert len(r["Deleted"]) == 7, r


def conditional(s3, bucket):
    """Conditional writes and reads, as SlateDB-like manifests use them."""
    s3.put_object(Bucket=bucket, Key="cond/manifest", Body=b"v1", IfNoneMatch="*")
    expect_error("PreconditionFailed", s3.put_object, Bucket=bucket, Key="cond/manifest",
                 Body=b"again", IfNoneMatch="*")
    etag = s3.head_object(Bucket=bucket, Key="cond/manifest")["ETag"]
    expect_error("PreconditionFailed", s3.put_object, Bucket=bucket, Key="cond/manifest",
                 Body=b"v2", IfMatch='"0123456789abcdef0123456789abcdef"')
    expect_error("NoSuchKey", s3.put_object, Bucket=bucket, Key="cond/absent", Body=b"x",
                 IfMatch=etag)
    s3.put_object(Bucket=bucket, Key="cond/manifest", Body=b"v2", IfMatch=etag)
    assert s3.get_object(Bucket=bucket, Key="cond/manifest")["Body"].read() == b"v2"
    expect_error("304", s3.get_object, Bucket=bucket, Key="cond/manifest",
                 IfNoneMatch=s3.head_object(Bucket=bucket, Key="cond/manifest")["ETag"])
    expect_error("PreconditionFailed", s3.get_object, Bucket=bucket, Key="cond/manifest",
                 IfMatch=etag)
    # CompleteMultipartUpload If-None-Match: 412 when the key exists, 409 when it was
    # written after the upload began.
    up = s3.create_multipart_upload(Bucket=bucket, Key="cond/manifest")["UploadId"]
    p1 = s3.upload_part(Bucket=bucket, Key="cond/manifest", UploadId=up, PartNumber=1, Body=b"m")
    parts = {"Parts": [{"PartNumber": 1, "ETag": p1["ETag"]}]}
    expect_error("PreconditionFailed", s3.complete_multipart_upload, Bucket=bucket,
                 Key="cond/manifest", UploadId=up, MultipartUpload=parts, IfNoneMatch="*")
    s3.abort_multipart_upload(Bucket=bucket, Key="cond/manifest", UploadId=up)
    up = s3.create_multipart_upload(Bucket=bucket, Key="cond/new")["UploadId"]
    p1 = s3.upload_part(Bucket=bucket, Key="cond/new", UploadId=up, PartNumber=1, Body=b"n")
    s3.put_object(Bucket=bucket, Key="cond/new", Body=b"racer")
    expect_error("ConditionalRequestConflict", s3.complete_multipart_upload, Bucket=bucket,
                 Key="cond/new", UploadId=up,
                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": p1["ETag"]}]},
                 IfNoneMatch="*")
    s3.abort_multipart_upload(Bucket=bucket, Key="cond/new", UploadId=up)
    # CopyObject: the source's conditions, and If-None-Match on the destination.
    src = {"Bucket": bucket, "Key": "cond/manifest"}
    expect_error("PreconditionFailed", s3.copy_object, Bucket=bucket, Key="cond/copy",
                 CopySource=src, CopySourceIfMatch=etag)
    cur = s3.head_object(Bucket=bucket, Key="cond/manifest")["ETag"]
    expect_error("PreconditionFailed", s3.copy_object, Bucket=bucket, Key="cond/copy",
                 CopySource=src, CopySourceIfNoneMatch=cur)
    s3.copy_object(Bucket=bucket, Key="cond/copy", CopySource=src, CopySourceIfMatch=cur)
    expect_error("PreconditionFailed", s3.copy_object, Bucket=bucket, Key="cond/copy",
                 CopySource=src, IfNoneMatch="*")
    for k in ("cond/manifest", "cond/new", "cond/copy"):
        s3.delete_object(Bucket=bucket, Key=k)


def metadata(s3, bucket):
    """Object metadata: stored, returned, copied or replaced; Last-Modified is now."""
    import datetime
    before = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=5)
    s3.put_object(Bucket=bucket, Key="meta/a", Body=b"{}", ContentType="application/json",
                  CacheControl="max-age=60", ContentDisposition="inline",
                  Metadata={"Md5chksum": "abc", "owner": "s3sim"})
    h = s3.head_object(Bucket=bucket, Key="meta/a")
    assert h["ContentType"] == "application/json", h
    assert h["CacheControl"] == "max-age=60" and h["ContentDisposition"] == "inline", h
    assert h["Metadata"] == {"md5chksum": "abc", "owner": "s3sim"}, h["Metadata"]
    after = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=5)
    assert before <= h["LastModified"] <= after, (before, h["LastModified"], after)
    g = s3.get_object(Bucket=bucket, Key="meta/a")
    assert g["ContentType"] == "application/json" and g["Metadata"]["owner"] == "s3sim", g
    lm = h["LastModified"]
    expect_error("304", s3.get_object, Bucket=bucket, Key="meta/a", IfModifiedSince=lm)
    assert s3.get_object(Bucket=bucket, Key="meta/a",
                         IfModifiedSince=lm - datetime.timedelta(seconds=1))["Body"].read()
    expect_error("PreconditionFailed", s3.get_object, Bucket=bucket, Key="meta/a",
                 IfUnmodifiedSince=lm - datetime.timedelta(seconds=1))
    assert s3.get_object(Bucket=bucket, Key="meta/a", IfUnmodifiedSince=lm)["Body"].read()
    s3.copy_object(Bucket=bucket, Key="meta/b", CopySource={"Bucket": bucket, "Key": "meta/a"})
    h = s3.head_object(Bucket=bucket, Key="meta/b")
    assert h["ContentType"] == "application/json" and h["Metadata"]["owner"] == "s3sim", h
    s3.copy_object(Bucket=bucket, Key="meta/b", CopySource={"Bucket": bucket, "Key": "meta/a"},
                   MetadataDirective="REPLACE", ContentType="text/plain",
                   Metadata={"replaced": "yes"})
    h = s3.head_object(Bucket=bucket, Key="meta/b")
    assert h["ContentType"] == "text/plain" and h["Metadata"] == {"replaced": "yes"}, h
    up = s3.create_multipart_upload(Bucket=bucket, Key="meta/mpu", ContentType="video/mp4",
                                    Metadata={"part": "ed"})["UploadId"]
    p1 = s3.upload_part(Bucket=bucket, Key="meta/mpu", UploadId=up, PartNumber=1, Body=b"x")
    s3.complete_multipart_upload(Bucket=bucket, Key="meta/mpu", UploadId=up,
                                 MultipartUpload={"Parts": [{"PartNumber": 1,
                                                             "ETag": p1["ETag"]}]})
    h = s3.head_object(Bucket=bucket, Key="meta/mpu")
    assert h["ContentType"] == "video/mp4" and h["Metadata"] == {"part": "ed"}, h
    s3.put_object(Bucket=bucket, Key="meta/plain", Body=b"p")
    h = s3.head_object(Bucket=bucket, Key="meta/plain")
    assert h["ContentType"] == "binary/octet-stream" and h["Metadata"] == {}, h
    expect_error("MetadataTooLarge", s3.put_object, Bucket=bucket, Key="meta/big", Body=b"b",
                 Metadata={"big": "v" * 5000})
    for k in ("meta/a", "meta/b", "meta/mpu", "meta/plain"):
        s3.delete_object(Bucket=bucket, Key=k)


def presigned(s3, bucket):
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "dir/small"},
                                    ExpiresIn=60)
    with urllib.request.urlopen(url) as f:
        assert f.read() == b"small object"
    try:
        urllib.request.urlopen(url.replace("X-Amz-Signature=", "X-Amz-Signature=0"))
        raise AssertionError("a tampered presigned URL was accepted")
    except urllib.error.HTTPError as e:
        assert e.code == 403, e


def uploads(s3, bucket):
    # ListMultipartUploads: by prefix, paged by the paginator through
    # NextKeyMarker/NextUploadIdMarker, aborted uploads gone.
    ids = [s3.create_multipart_upload(Bucket=bucket, Key=k)["UploadId"]
           for k in ("mpu/a", "mpu/a", "mpu/b", "other/c")]
    pages = list(s3.get_paginator("list_multipart_uploads").paginate(
        Bucket=bucket, Prefix="mpu/", PaginationConfig={"PageSize": 2}))
    got = [(u["Key"], u["UploadId"]) for p in pages for u in p.get("Uploads", [])]
    assert len(pages) == 2, pages
    assert sorted(got) == sorted(zip(("mpu/a", "mpu/a", "mpu/b"), ids[:3])), got
    r = s3.list_multipart_uploads(Bucket=bucket, Prefix="other/")
    assert [(u["Key"], u["UploadId"]) for u in r["Uploads"]] == [("other/c", ids[3])], r
    for k, up in zip(("mpu/a", "mpu/a", "mpu/b", "other/c"), ids):
        s3.abort_multipart_upload(Bucket=bucket, Key=k, UploadId=up)
    r = s3.list_multipart_uploads(Bucket=bucket)
    assert not r.get("Uploads") and not r["IsTruncated"], r


def cleanup(s3, bucket):
    # The usual cleanup of S3 test suites: every version of every key, then the bucket.
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        objs = [{"Key": v["Key"], "VersionId": v["VersionId"]} for v in page.get("Versions", [])]
        if objs:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": objs})
    s3.delete_bucket(Bucket=bucket)
    expect_error("404", s3.head_bucket, Bucket=bucket)


def faults(cmd):
    p, ep = start(cmd, "--fault", "put key=busy* status=503", "--fault", "get key=cut* reset",
                  "--fault", "get key=slow* delay=300ms", "--set", "s3.delete.missing=404")
    try:
        s3 = client(ep)
        s3.create_bucket(Bucket="faulty")
        expect_error("NoSuchKey", s3.delete_object, Bucket="faulty", Key="never-there")
        expect_error("SlowDown", s3.put_object, Bucket="faulty", Key="busy", Body=b"x")
        s3.put_object(Bucket="faulty", Key="cut", Body=b"z" * 100000)
        try:
            s3.get_object(Bucket="faulty", Key="cut")["Body"].read()
            raise AssertionError("the reset was not seen")
        except (BotoConnError, ClientError, Exception) as e:  # noqa: B014
            assert not isinstance(e, AssertionError), e
        s3.put_object(Bucket="faulty", Key="slow", Body=b"late")
        t0 = time.monotonic()
        assert s3.get_object(Bucket="faulty", Key="slow")["Body"].read() == b"late"
        assert time.monotonic() - t0 >= 0.25, "delay=300ms answered too early"
    finally:
        p.terminate()
        p.wait(timeout=10)


def main():
    if len(sys.argv) < 2:
        raise SystemExit("usage: boto3_test.py SERVE-COMMAND...")
    cmd = sys.argv[1:]
    p, ep = start(cmd)
    try:
        # Virtual-host style needs bucket.localhost to resolve, which the system
        # resolver does not do; tests/test_http_curl.c covers it through libcurl.
        for style in ("path",):
            s3 = client(ep, style=style)
            bucket = f"interop-{style}"
            objects(s3, bucket)
            multipart(s3, bucket)
            listing(s3, bucket)
            uploads(s3, bucket)
            copy_delete(s3, bucket)
            conditional(s3, bucket)
            metadata(s3, bucket)
            presigned(s3, bucket)
            expect_error("SignatureDoesNotMatch", client(ep, secret="wrong").list_objects_v2,
                         Bucket=bucket)
            cleanup(s3, bucket)
    finally:
        p.terminate()
        p.wait(timeout=10)
    faults(cmd)
    print("PASS: boto3 against s3sim serve")


if __name__ == "__main__":
    main()
