#!/usr/bin/env python3
"""`s3sim serve` as an S3 test double: the answers where it used to differ
from AWS (issue 13, "wrong behaviour"), LastModified in listings and the user
metadata limit, with boto3 and raw HTTP (for what boto3 hides: headers, the
100 Continue exchange, error bodies).

Usage: double_test.py SERVE-COMMAND...   (e.g. build/bin/s3sim serve)
Exit 77 (skipped) when boto3 is not importable.
"""
import datetime
import re
import socket
import subprocess
import sys
import urllib.error
import urllib.request

SKIP = 77
AK, SK = "interopkey", "interop/secret+key"

try:
    import boto3
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.config import Config
    from botocore.credentials import Credentials
    from botocore.exceptions import ClientError
except ImportError as e:  # pragma: no cover
    print(f"SKIP: boto3 is not importable ({e}); Debian package python3-boto3")
    sys.exit(SKIP)

MiB = 1024 * 1024


def start(cmd, *opts):
    p = subprocess.Popen(list(cmd) + ["--port", "0", "--access-key", AK, "--secret-key", SK]
                         + list(opts), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    m = re.search(r"endpoint=(\S+)", line)
    if not m:
        p.kill()
        raise SystemExit(f"FAIL: the server did not start: {line!r} {p.stderr.read()}")
    return p, m.group(1)


def client(endpoint, region="us-east-1"):
    cfg = Config(signature_version="s3v4", retries={"max_attempts": 1, "mode": "standard"},
                 s3={"addressing_style": "path"})
    return boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=AK,
                        aws_secret_access_key=SK, region_name=region, config=cfg)


def expect_error(code, fn, *a, **kw):
    try:
        fn(*a, **kw)
    except ClientError as e:
        got = e.response["Error"]["Code"]
        assert got == code, f"want {code}, got {got}: {e}"
        return e
    raise AssertionError(f"want {code}, the call succeeded")


def signed_headers(endpoint, method, path, body=b"", extra=None):
    """SigV4 headers for a raw request (botocore's signer)."""
    req = AWSRequest(method=method, url=endpoint + path, data=body, headers=extra or {})
    S3SigV4Auth(Credentials(AK, SK), "s3", "us-east-1").add_auth(req)
    return dict(req.headers.items())


def raw(endpoint, method, path, body=b"", extra=None, sign=True):
    """(status, headers, body) of one signed request through urllib."""
    hdrs = signed_headers(endpoint, method, path, body, extra) if sign else (extra or {})
    req = urllib.request.Request(endpoint + path, data=body or None, method=method, headers=hdrs)
    try:
        with urllib.request.urlopen(req) as f:
            return f.status, f.headers, f.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def request_ids(s3, ep, bucket):
    """Every answer has x-amz-request-id and x-amz-id-2, errors carry the same RequestId."""
    r = s3.put_object(Bucket=bucket, Key="ids", Body=b"x")
    md = r["ResponseMetadata"]
    assert re.fullmatch(r"[0-9A-F]{16}", md["RequestId"]), md
    assert md["HostId"], md
    ids = {md["RequestId"]}
    for _ in range(3):
        ids.add(s3.head_object(Bucket=bucket, Key="ids")["ResponseMetadata"]["RequestId"])
    assert len(ids) == 4, f"request ids repeat: {ids}"
    status, h, body = raw(ep, "GET", f"/{bucket}/absent")
    assert status == 404, (status, body)
    rid = h["x-amz-request-id"]
    assert rid and h["x-amz-id-2"], dict(h)
    assert f"<RequestId>{rid}</RequestId>" in body.decode(), (rid, body)
    assert f"<HostId>{h['x-amz-id-2']}</HostId>" in body.decode(), body
    # An unauthenticated answer too.
    status, h, body = raw(ep, "GET", f"/{bucket}", sign=False)
    assert status == 403 and h["x-amz-request-id"] in body.decode(), (status, dict(h), body)


def complete_repeat(s3, bucket, repeat_ok):
    up = s3.create_multipart_upload(Bucket=bucket, Key="rep")["UploadId"]
    p1 = s3.upload_part(Bucket=bucket, Key="rep", UploadId=up, PartNumber=1, Body=b"a" * 5 * MiB)
    p2 = s3.upload_part(Bucket=bucket, Key="rep", UploadId=up, PartNumber=2, Body=b"b")
    parts = {"Parts": [{"PartNumber": 1, "ETag": p1["ETag"]}, {"PartNumber": 2, "ETag": p2["ETag"]}]}
    first = s3.complete_multipart_upload(Bucket=bucket, Key="rep", UploadId=up,
                                         MultipartUpload=parts)
    assert first["ETag"].endswith('-2"'), first
    if repeat_ok:
        again = s3.complete_multipart_upload(Bucket=bucket, Key="rep", UploadId=up,
                                             MultipartUpload=parts)
        assert again["ETag"] == first["ETag"], (first["ETag"], again["ETag"])
        # Another key with the same upload id is still no such upload.
        expect_error("NoSuchUpload", s3.complete_multipart_upload, Bucket=bucket, Key="other",
                     UploadId=up, MultipartUpload=parts)
    else:
        expect_error("NoSuchUpload", s3.complete_multipart_upload, Bucket=bucket, Key="rep",
                     UploadId=up, MultipartUpload=parts)
    expect_error("NoSuchUpload", s3.upload_part, Bucket=bucket, Key="rep", UploadId=up,
                 PartNumber=3, Body=b"c")
    assert s3.get_object(Bucket=bucket, Key="rep")["ContentLength"] == 5 * MiB + 1


def buckets(s3, ep):
    s3.create_bucket(Bucket="dbl-own")
    # us-east-1: creating a bucket you own again answers 200.
    s3.create_bucket(Bucket="dbl-own")
    assert s3.get_bucket_location(Bucket="dbl-own")["LocationConstraint"] is None
    s3.create_bucket(Bucket="dbl-eu", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert s3.get_bucket_location(Bucket="dbl-eu")["LocationConstraint"] == "eu-west-1"
    h = s3.head_bucket(Bucket="dbl-eu")
    assert h["ResponseMetadata"]["HTTPHeaders"]["x-amz-bucket-region"] == "eu-west-1", h
    status, _, body = raw(ep, "PUT", "/dbl-bad", body=b"<CreateBucketConfiguration><Location")
    assert status == 400 and b"MalformedXML" in body, (status, body)
    names = {b["Name"]: b["CreationDate"] for b in s3.list_buckets()["Buckets"]}
    now = datetime.datetime.now(datetime.timezone.utc)
    assert abs((names["dbl-eu"] - now).total_seconds()) < 60, names
    for b in ("dbl-own", "dbl-eu"):
        s3.delete_bucket(Bucket=b)


def listing(s3, bucket):
    before = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=5)
    for i in range(3):
        s3.put_object(Bucket=bucket, Key=f"l/k{i}", Body=b"z" * i)
    after = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=5)
    r = s3.list_objects_v2(Bucket=bucket, Prefix="l/", MaxKeys=0)
    assert r["IsTruncated"] is False and r["KeyCount"] == 0 and not r.get("Contents"), r
    r = s3.list_objects(Bucket=bucket, Prefix="l/", MaxKeys=0)
    assert r["IsTruncated"] is False and not r.get("Contents"), r
    r = s3.list_objects_v2(Bucket=bucket, Prefix="l/")
    assert all("Owner" not in o for o in r["Contents"]), r
    for o in r["Contents"]:
        assert before <= o["LastModified"] <= after, (before, o, after)
        assert len(o["ETag"].strip('"')) == 32, o  # the MD5 even when boto3 sent a CRC32
    r = s3.list_objects_v2(Bucket=bucket, Prefix="l/", FetchOwner=True)
    assert all(o["Owner"]["ID"] == "s3sim" for o in r["Contents"]), r
    r = s3.list_objects(Bucket=bucket, Prefix="l/")
    assert all(before <= o["LastModified"] <= after for o in r["Contents"]), r
    r = s3.list_objects_v2(Bucket=bucket, Prefix="l/", Delimiter="/", StartAfter="l/k0")
    assert [o["Key"] for o in r["Contents"]] == ["l/k1", "l/k2"], r
    assert all(before <= o["LastModified"] <= after for o in r["Contents"]), r
    up = s3.create_multipart_upload(Bucket=bucket, Key="l/up")["UploadId"]
    u = s3.list_multipart_uploads(Bucket=bucket, Prefix="l/")["Uploads"]
    assert len(u) == 1 and before <= u[0]["Initiated"] <= after, u
    s3.abort_multipart_upload(Bucket=bucket, Key="l/up", UploadId=up)


def copies(s3, bucket):
    s3.put_object(Bucket=bucket, Key="c/self", Body=b"same", Metadata={"a": "1"})
    src = {"Bucket": bucket, "Key": "c/self"}
    e = expect_error("InvalidRequest", s3.copy_object, Bucket=bucket, Key="c/self", CopySource=src)
    assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    s3.copy_object(Bucket=bucket, Key="c/self", CopySource=src, MetadataDirective="REPLACE",
                   Metadata={"a": "2"})
    assert s3.head_object(Bucket=bucket, Key="c/self")["Metadata"] == {"a": "2"}
    r = s3.copy_object(Bucket=bucket, Key="c/other", CopySource=src)
    now = datetime.datetime.now(datetime.timezone.utc)
    assert abs((r["CopyObjectResult"]["LastModified"] - now).total_seconds()) < 60, r
    up = s3.create_multipart_upload(Bucket=bucket, Key="c/mpu")["UploadId"]
    for bad in ("bytes=abc", "bytes=1-", "bytes=-2", "bytes=3-1", "items=0-1"):
        expect_error("InvalidArgument", s3.upload_part_copy, Bucket=bucket, Key="c/mpu",
                     UploadId=up, PartNumber=1, CopySource=src, CopySourceRange=bad)
    r = s3.upload_part_copy(Bucket=bucket, Key="c/mpu", UploadId=up, PartNumber=1,
                            CopySource=src, CopySourceRange="bytes=1-2")
    s3.complete_multipart_upload(Bucket=bucket, Key="c/mpu", UploadId=up, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": r["CopyPartResult"]["ETag"]}]})
    assert s3.get_object(Bucket=bucket, Key="c/mpu")["Body"].read() == b"am"


def duplicate_parts(s3, bucket):
    up = s3.create_multipart_upload(Bucket=bucket, Key="dup")["UploadId"]
    p1 = s3.upload_part(Bucket=bucket, Key="dup", UploadId=up, PartNumber=1, Body=b"a" * 5 * MiB)
    p2 = s3.upload_part(Bucket=bucket, Key="dup", UploadId=up, PartNumber=2, Body=b"b")
    one, two = ({"PartNumber": 1, "ETag": p1["ETag"]}, {"PartNumber": 2, "ETag": p2["ETag"]})
    # S3 answers a part listed twice as it answers parts out of order.
    for parts in ([one, one, two], [one, two, two], [two, one]):
        expect_error("InvalidPartOrder", s3.complete_multipart_upload, Bucket=bucket, Key="dup",
                     UploadId=up, MultipartUpload={"Parts": parts})
    s3.complete_multipart_upload(Bucket=bucket, Key="dup", UploadId=up,
                                 MultipartUpload={"Parts": [one, two]})


def continue_after_auth(ep, bucket):
    """100 Continue only to a request whose signature verified."""
    host, port = ep.split("//")[1].split(":")
    body = b"0123456789"

    def exchange(headers):
        s = socket.create_connection((host, int(port)), timeout=10)
        lines = f"Host: {host}:{port}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        s.sendall(f"PUT /{bucket}/cont HTTP/1.1\r\n{lines}\r\n".encode())
        first = s.recv(4096).decode(errors="replace")
        if first.startswith("HTTP/1.1 100"):
            s.sendall(body)
            rest = s.recv(4096).decode(errors="replace")
            while "\r\n\r\n" not in rest:
                rest += s.recv(4096).decode(errors="replace")
            first += rest
        s.close()
        return first

    good = signed_headers(ep, "PUT", f"/{bucket}/cont", body, {"Expect": "100-continue"})
    good["Content-Length"] = str(len(body))
    got = exchange(good)
    assert got.startswith("HTTP/1.1 100"), got
    assert "HTTP/1.1 200" in got, got
    bad = dict(good)
    bad["Authorization"] = re.sub(r"Signature=[0-9a-f]+", "Signature=" + "0" * 64,
                                  good["Authorization"])
    got = exchange(bad)
    assert got.startswith("HTTP/1.1 403"), got
    assert "SignatureDoesNotMatch" in got, got


def not_implemented(s3, ep, bucket):
    s3.put_object(Bucket=bucket, Key="sub", Body=b"s")
    for fn, kw in ((s3.get_bucket_notification_configuration, {}),
                   (s3.get_bucket_ownership_controls, {}),
                   (s3.get_public_access_block, {}),
                   (s3.get_bucket_website, {}),
                   (s3.get_bucket_policy, {}),
                   (s3.put_bucket_website, {"WebsiteConfiguration": {
                       "IndexDocument": {"Suffix": "index.html"}}}),
                   (s3.get_bucket_logging, {}),
                   (s3.get_object_torrent, {"Key": "sub"})):
        e = expect_error("NotImplemented", fn, Bucket=bucket, **kw)
        assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 501, e.response
    for path in (f"/{bucket}?notification", f"/{bucket}?analytics", f"/{bucket}?unknown=",
                 f"/{bucket}/sub?torrent"):
        status, _, body = raw(ep, "GET", path)
        assert status == 501 and b"NotImplemented" in body, (path, status, body)
    # A parameter with a value is not a sub-resource: the listing is served.
    status, _, body = raw(ep, "GET", f"/{bucket}?list-type=2&prefix=sub&unknown=1")
    assert status == 200 and b"<Key>sub</Key>" in body, (status, body)


def metadata_limit(s3, bucket):
    # 2 KiB of user metadata (names after x-amz-meta- and values) is the most.
    s3.put_object(Bucket=bucket, Key="m/at", Body=b"m", Metadata={"k": "v" * 2047})
    assert len(s3.head_object(Bucket=bucket, Key="m/at")["Metadata"]["k"]) == 2047
    expect_error("MetadataTooLarge", s3.put_object, Bucket=bucket, Key="m/over", Body=b"m",
                 Metadata={"k": "v" * 2048})
    expect_error("MetadataTooLarge", s3.put_object, Bucket=bucket, Key="m/over", Body=b"m",
                 Metadata={f"k{i}": "v" * 200 for i in range(11)})
    expect_error("MetadataTooLarge", s3.create_multipart_upload, Bucket=bucket, Key="m/over",
                 Metadata={"k": "v" * 2100})
    expect_error("MetadataTooLarge", s3.copy_object, Bucket=bucket, Key="m/over",
                 CopySource={"Bucket": bucket, "Key": "m/at"}, MetadataDirective="REPLACE",
                 Metadata={"k": "v" * 2100})
    try:
        s3.head_object(Bucket=bucket, Key="m/over")
        raise AssertionError("an object over the metadata limit was stored")
    except ClientError as e:
        assert e.response["Error"]["Code"] == "404", e


def parts(s3, bucket):
    """GET/HEAD ?partNumber and ListParts with paging."""
    sizes = [5 * MiB, 5 * MiB + 7, 3]
    data = [bytes([65 + i]) * n for i, n in enumerate(sizes)]
    up = s3.create_multipart_upload(Bucket=bucket, Key="p/obj")["UploadId"]
    etags = [s3.upload_part(Bucket=bucket, Key="p/obj", UploadId=up, PartNumber=i + 1,
                            Body=d)["ETag"] for i, d in enumerate(data)]
    r = s3.list_parts(Bucket=bucket, Key="p/obj", UploadId=up)
    assert [(p["PartNumber"], p["Size"], p["ETag"]) for p in r["Parts"]] == \
        list(zip((1, 2, 3), sizes, etags)), r
    assert r["IsTruncated"] is False and r["MaxParts"] == 1000, r
    r = s3.list_parts(Bucket=bucket, Key="p/obj", UploadId=up, MaxParts=2)
    assert [p["PartNumber"] for p in r["Parts"]] == [1, 2] and r["IsTruncated"], r
    assert r["NextPartNumberMarker"] == 2, r
    r = s3.list_parts(Bucket=bucket, Key="p/obj", UploadId=up, MaxParts=2, PartNumberMarker=2)
    assert [p["PartNumber"] for p in r["Parts"]] == [3] and not r["IsTruncated"], r
    pages = list(s3.get_paginator("list_parts").paginate(
        Bucket=bucket, Key="p/obj", UploadId=up, PaginationConfig={"PageSize": 1}))
    assert [p["PartNumber"] for pg in pages for p in pg["Parts"]] == [1, 2, 3], pages
    expect_error("NoSuchUpload", s3.list_parts, Bucket=bucket, Key="p/other", UploadId=up)
    done = s3.complete_multipart_upload(Bucket=bucket, Key="p/obj", UploadId=up, MultipartUpload={
        "Parts": [{"PartNumber": i + 1, "ETag": e} for i, e in enumerate(etags)]})
    expect_error("NoSuchUpload", s3.list_parts, Bucket=bucket, Key="p/obj", UploadId=up)
    for n in (1, 2, 3):
        g = s3.get_object(Bucket=bucket, Key="p/obj", PartNumber=n)
        assert g["Body"].read() == data[n - 1] and g["PartsCount"] == 3, g
        assert g["ResponseMetadata"]["HTTPStatusCode"] == 206 and g["ETag"] == done["ETag"], g
        start = sum(sizes[:n - 1])
        assert g["ContentRange"] == f"bytes {start}-{start + sizes[n - 1] - 1}/{sum(sizes)}", g
        h = s3.head_object(Bucket=bucket, Key="p/obj", PartNumber=n)
        assert h["ContentLength"] == sizes[n - 1] and h["PartsCount"] == 3, h
    expect_error("InvalidPart", s3.get_object, Bucket=bucket, Key="p/obj", PartNumber=4)
    expect_error("InvalidRequest", s3.get_object, Bucket=bucket, Key="p/obj", PartNumber=1,
                 Range="bytes=0-1")
    s3.put_object(Bucket=bucket, Key="p/single", Body=b"whole")
    g = s3.get_object(Bucket=bucket, Key="p/single", PartNumber=1)
    assert g["Body"].read() == b"whole" and "PartsCount" not in g, g
    expect_error("InvalidPart", s3.get_object, Bucket=bucket, Key="p/single", PartNumber=2)
    expect_error("NoSuchKey", s3.get_object, Bucket=bucket, Key="p/absent", PartNumber=1)


def crc32c(data):
    c = 0xFFFFFFFF
    for byte in data:
        c ^= byte
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
    return c ^ 0xFFFFFFFF


def crc64nvme(data):
    c = 0xFFFFFFFFFFFFFFFF
    for byte in data:
        c ^= byte
        for _ in range(8):
            c = (c >> 1) ^ 0x9A6C9329AC4BC9B5 if c & 1 else c >> 1
    return c ^ 0xFFFFFFFFFFFFFFFF


def checksums(s3, ep, bucket):
    """x-amz-checksum-*: verified on upload, stored, returned with
    x-amz-checksum-mode: ENABLED; GetObjectAttributes."""
    import base64
    import hashlib
    import zlib
    body = b"checksummed body " * 100
    b64 = lambda raw: base64.b64encode(raw).decode()  # noqa: E731
    want = {
        "CRC32": b64(zlib.crc32(body).to_bytes(4, "big")),
        "SHA1": b64(hashlib.sha1(body).digest()),
        "SHA256": b64(hashlib.sha256(body).digest()),
    }
    for alg, value in want.items():
        key = f"ck/{alg}"
        r = s3.put_object(Bucket=bucket, Key=key, Body=body, ChecksumAlgorithm=alg)
        assert r.get(f"Checksum{alg}") == value, (alg, r)
        g = s3.get_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
        assert g["Body"].read() == body and g[f"Checksum{alg}"] == value, (alg, g)
        h = s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
        assert h[f"Checksum{alg}"] == value, (alg, h)
        plain = s3.head_object(Bucket=bucket, Key=key)
        assert f"Checksum{alg}" not in plain, (alg, plain)
        a = s3.get_object_attributes(Bucket=bucket, Key=key,
                                     ObjectAttributes=["ETag", "Checksum", "ObjectSize",
                                                       "StorageClass"])
        assert a["Checksum"][f"Checksum{alg}"] == value and a["ObjectSize"] == len(body), a
        assert a["ETag"] == hashlib.md5(body).hexdigest() and a["StorageClass"] == "STANDARD", a
    # CRC32C and CRC64NVME need awscrt in boto3: raw requests, with the CRCs
    # computed here (checked first on the CRC catalogue's "123456789").
    for alg, fn, check in (("crc32c", crc32c, 0xe3069283),
                           ("crc64nvme", crc64nvme, 0xae8b14860a799888)):
        assert fn(b"123456789") == check, alg
        n = 4 if alg == "crc32c" else 8
        value = b64(fn(body).to_bytes(n, "big"))
        status, h, err = raw(ep, "PUT", f"/{bucket}/ck/{alg}", body=body,
                             extra={f"x-amz-checksum-{alg}": value})
        assert status == 200 and h[f"x-amz-checksum-{alg}"] == value, (alg, status, err)
        status, h, got = raw(ep, "GET", f"/{bucket}/ck/{alg}", extra={"x-amz-checksum-mode": "ENABLED"})
        assert status == 200 and got == body and h[f"x-amz-checksum-{alg}"] == value, (alg, dict(h))
        wrong = b64((fn(body) ^ 1).to_bytes(n, "big"))
        status, _, err = raw(ep, "PUT", f"/{bucket}/ck/{alg}-bad", body=body,
                             extra={f"x-amz-checksum-{alg}": wrong})
        assert status == 400 and b"BadDigest" in err, (alg, status, err)
    # A wrong value is refused, and nothing is stored.
    bad = b64(hashlib.sha1(b"other").digest())
    status, _, err = raw(ep, "PUT", f"/{bucket}/ck/bad", body=body,
                         extra={"x-amz-checksum-sha1": bad})
    assert status == 400 and b"BadDigest" in err, (status, err)
    status, _, _ = raw(ep, "HEAD", f"/{bucket}/ck/bad")
    assert status == 404, status
    # A 304 carries no checksum (boto3 asks for one on every GET and would
    # fail to read the empty answer as a checksummed body).
    etag = s3.head_object(Bucket=bucket, Key="ck/CRC32")["ETag"]
    expect_error("304", s3.get_object, Bucket=bucket, Key="ck/CRC32", IfNoneMatch=etag,
                 ChecksumMode="ENABLED")
    # A ranged GET gives no whole-object checksum.
    g = s3.get_object(Bucket=bucket, Key="ck/SHA1", Range="bytes=0-3", ChecksumMode="ENABLED")
    assert "ChecksumSHA1" not in g, g
    # ObjectParts of a multipart object, paged.
    up = s3.create_multipart_upload(Bucket=bucket, Key="ck/mpu")["UploadId"]
    sizes = [5 * MiB, 5 * MiB, 10]
    parts = [{"PartNumber": i + 1, "ETag": s3.upload_part(
        Bucket=bucket, Key="ck/mpu", UploadId=up, PartNumber=i + 1, Body=b"p" * n)["ETag"]}
        for i, n in enumerate(sizes)]
    s3.complete_multipart_upload(Bucket=bucket, Key="ck/mpu", UploadId=up,
                                 MultipartUpload={"Parts": parts})
    a = s3.get_object_attributes(Bucket=bucket, Key="ck/mpu", ObjectAttributes=["ObjectParts"],
                                 MaxParts=2)
    op = a["ObjectParts"]
    assert op["TotalPartsCount"] == 3 and op["IsTruncated"] and op["NextPartNumberMarker"] == 2, a
    assert [(p["PartNumber"], p["Size"]) for p in op["Parts"]] == [(1, 5 * MiB), (2, 5 * MiB)], a
    a = s3.get_object_attributes(Bucket=bucket, Key="ck/mpu", ObjectAttributes=["ObjectParts"],
                                 MaxParts=2, PartNumberMarker=2)
    assert [(p["PartNumber"], p["Size"]) for p in a["ObjectParts"]["Parts"]] == [(3, 10)], a
    expect_error("NoSuchKey", s3.get_object_attributes, Bucket=bucket, Key="ck/absent",
                 ObjectAttributes=["ETag"])


def main():
    if len(sys.argv) < 2:
        raise SystemExit("usage: double_test.py SERVE-COMMAND...")
    cmd = sys.argv[1:]
    p, ep = start(cmd)
    try:
        s3 = client(ep)
        bucket = "dbl"
        s3.create_bucket(Bucket=bucket)
        request_ids(s3, ep, bucket)
        complete_repeat(s3, bucket, True)
        buckets(s3, ep)
        listing(s3, bucket)
        copies(s3, bucket)
        duplicate_parts(s3, bucket)
        continue_after_auth(ep, bucket)
        not_implemented(s3, ep, bucket)
        metadata_limit(s3, bucket)
        parts(s3, bucket)
        checksums(s3, ep, bucket)
    finally:
        p.terminate()
        p.wait(timeout=10)
    # The other answer some stores give to a repeated Complete, and another
    # region's answer to CreateBucket of your own bucket.
    p, ep = start(cmd, "--set", "s3.complete.repeat=nosuchupload", "--region", "eu-west-1")
    try:
        s3 = client(ep, region="eu-west-1")
        s3.create_bucket(Bucket="dbl2",
                         CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        expect_error("BucketAlreadyOwnedByYou", s3.create_bucket, Bucket="dbl2",
                     CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        complete_repeat(s3, "dbl2", False)
    finally:
        p.terminate()
        p.wait(timeout=10)
    print("PASS: s3sim serve as an S3 test double (boto3, raw HTTP)")


if __name__ == "__main__":
    main()
