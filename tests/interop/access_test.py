#!/usr/bin/env python3
"""`s3sim serve` with several users (issue 13, item 6): owners, canned ACLs
and grants, anonymous requests, SigV2 (header and presigned), tagging and
CORS, with boto3 (SigV4 and SigV2 signers) and raw HTTP for what boto3
hides (unsigned requests, OPTIONS preflights, response headers).

Usage: access_test.py SERVE-COMMAND...   (e.g. build/bin/s3sim serve)
Exit 77 (skipped) when boto3 is not importable.
"""
import base64
import email.utils
import hashlib
import hmac
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

SKIP = 77
AK, SK = "interopkey", "interop/secret+key"          # the server's own pair: user "s3sim"
NAME1 = "s3sim"
AK2, SK2, NAME2 = "bobkey", "bob/secret", "bob"       # --user
AK3, SK3, NAME3 = "carolkey", "carol-secret", "carol"  # --users FILE

try:
    import boto3
    from botocore import UNSIGNED
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    from botocore.config import Config
    from botocore.exceptions import ClientError
except ImportError as e:  # pragma: no cover
    print(f"SKIP: boto3 is not importable ({e}); Debian package python3-boto3")
    sys.exit(SKIP)

CHECKS = 0


def check(cond, what):
    global CHECKS
    CHECKS += 1
    if not cond:
        raise AssertionError(what)


def start(cmd, *opts):
    p = subprocess.Popen(list(cmd) + ["--port", "0", "--access-key", AK, "--secret-key", SK]
                         + list(opts), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    m = re.search(r"endpoint=(\S+)", line)
    if not m:
        p.kill()
        raise SystemExit(f"FAIL: the server did not start: {line!r} {p.stderr.read()}")
    return p, m.group(1)


def client(endpoint, ak=AK, sk=SK, sig="s3v4"):
    cfg = Config(signature_version=sig, retries={"max_attempts": 1, "mode": "standard"},
                 s3={"addressing_style": "path"})
    if ak is None:
        cfg = cfg.merge(Config(signature_version=UNSIGNED))
    return boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=ak or "x",
                        aws_secret_access_key=sk or "x", region_name="us-east-1", config=cfg)


def expect_error(code, fn, *a, **kw):
    try:
        fn(*a, **kw)
    except ClientError as e:
        got = e.response["Error"]["Code"]
        check(got == code, f"want {code}, got {got}: {e}")
        return e
    raise AssertionError(f"want {code}, the call succeeded")


def raw(url, method="GET", body=None, headers=None):
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req) as f:
            return f.status, f.headers, f.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def signed(ep, method, path, body=b"", headers=None):
    """A raw SigV4-signed request of the server's own user (for bodies boto3 would not send)."""
    req = AWSRequest(method=method, url=ep + path, data=body, headers=headers or {})
    S3SigV4Auth(Credentials(AK, SK), "s3", "us-east-1").add_auth(req)
    return raw(ep + path, method, body or None, dict(req.headers.items()))


def grants(acl):
    out = set()
    for g in acl["Grants"]:
        ge = g["Grantee"]
        out.add((ge.get("ID") or ge.get("URI", "").rsplit("/", 1)[-1], g["Permission"]))
    return out


def test_users(ep):
    a, b = client(ep), client(ep, AK2, SK2)
    c = client(ep, AK3, SK3)
    a.create_bucket(Bucket="alice-b")
    b.create_bucket(Bucket="bob-b")
    names = [x["Name"] for x in a.list_buckets()["Buckets"]]
    check("alice-b" in names and "bob-b" not in names, f"alice's list: {names}")
    lb = b.list_buckets()
    check([x["Name"] for x in lb["Buckets"]] == ["bob-b"], f"bob's list: {lb['Buckets']}")
    check(lb["Owner"]["ID"] == NAME2, f"bob's owner: {lb['Owner']}")
    check(c.list_buckets()["Owner"]["DisplayName"] == NAME3, "carol from the users file")
    expect_error("BucketAlreadyExists", b.create_bucket, Bucket="alice-b")
    # Owners in listings and ACLs.
    a.put_bucket_acl(Bucket="alice-b", ACL="public-read-write")
    a.put_object(Bucket="alice-b", Key="by-alice", Body=b"a")
    b.put_object(Bucket="alice-b", Key="by-bob", Body=b"b")
    owners = {o["Key"]: o["Owner"]["ID"]
              for o in a.list_objects_v2(Bucket="alice-b", FetchOwner=True)["Contents"]}
    check(owners == {"by-alice": NAME1, "by-bob": NAME2}, f"fetch-owner: {owners}")
    check(a.get_object_acl(Bucket="alice-b", Key="by-alice")["Owner"]["ID"] == NAME1, "owner a")
    check(b.get_object_acl(Bucket="alice-b", Key="by-bob")["Owner"]["ID"] == NAME2, "owner b")
    # Bob's private object in alice's bucket: alice (the bucket's owner) may not read it.
    expect_error("AccessDenied", a.get_object, Bucket="alice-b", Key="by-bob")
    expect_error("AccessDenied", a.get_object_acl, Bucket="alice-b", Key="by-bob")
    # bucket-owner-full-control gives it to her.
    b.put_object(Bucket="alice-b", Key="by-bob2", Body=b"b2", ACL="bucket-owner-full-control")
    check(a.get_object(Bucket="alice-b", Key="by-bob2")["Body"].read() == b"b2", "bofc read")
    check(grants(a.get_object_acl(Bucket="alice-b", Key="by-bob2")) ==
          {(NAME2, "FULL_CONTROL"), (NAME1, "FULL_CONTROL")}, "bofc grants")
    a.put_bucket_acl(Bucket="alice-b", ACL="private")
    # A private object of alice: bob gets 403, not the object.
    a.put_object(Bucket="alice-b", Key="secret", Body=b"s")
    expect_error("AccessDenied", b.get_object, Bucket="alice-b", Key="secret")
    expect_error("AccessDenied", b.put_object, Bucket="alice-b", Key="x", Body=b"x")
    expect_error("AccessDenied", b.list_objects_v2, Bucket="alice-b")
    expect_error("AccessDenied", b.delete_object, Bucket="alice-b", Key="secret")
    expect_error("AccessDenied", b.delete_bucket, Bucket="alice-b")
    expect_error("AccessDenied", b.get_bucket_acl, Bucket="alice-b")
    check(a.get_object(Bucket="alice-b", Key="secret")["Body"].read() == b"s", "still there")
    # A grant by header lets bob read, and only read.
    a.put_object_acl(Bucket="alice-b", Key="secret", GrantRead=f'id="{NAME2}"')
    check(b.get_object(Bucket="alice-b", Key="secret")["Body"].read() == b"s", "granted read")
    expect_error("AccessDenied", b.put_object_acl, Bucket="alice-b", Key="secret", ACL="private")
    # A grant by XML body: authenticated users read the bucket's listing.
    acl = a.get_bucket_acl(Bucket="alice-b")
    pol = {"Owner": acl["Owner"], "Grants": acl["Grants"] + [
        {"Grantee": {"Type": "Group",
                     "URI": "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"},
         "Permission": "READ"}]}
    a.put_bucket_acl(Bucket="alice-b", AccessControlPolicy=pol)
    check(grants(a.get_bucket_acl(Bucket="alice-b")) ==
          {(NAME1, "FULL_CONTROL"), ("AuthenticatedUsers", "READ")}, "xml grants")
    keys = [o["Key"] for o in b.list_objects_v2(Bucket="alice-b")["Contents"]]
    check("secret" in keys, f"bob lists now: {keys}")
    # Errors in grants.
    expect_error("InvalidArgument", a.put_object_acl, Bucket="alice-b", Key="secret",
                 GrantRead='id="nobody-at-all"')
    expect_error("UnresolvableGrantByEmailAddress", a.put_object_acl, Bucket="alice-b",
                 Key="secret", GrantRead='emailAddress="x@example.com"')
    expect_error("InvalidArgument", a.put_object, Bucket="alice-b", Key="y", Body=b"y",
                 ACL="no-such-acl")
    expect_error("NoSuchKey", a.get_object_acl, Bucket="alice-b", Key="missing")
    expect_error("MalformedACLError", a.put_bucket_acl, Bucket="alice-b",
                 AccessControlPolicy={"Owner": acl["Owner"], "Grants": [
                     {"Grantee": {"Type": "CanonicalUser", "ID": NAME1}, "Permission": "ALL"}]})
    # CreateMultipartUpload's ACL is the completed object's.
    up = b.create_multipart_upload(Bucket="bob-b", Key="mp", ACL="public-read")
    e = b.upload_part(Bucket="bob-b", Key="mp", UploadId=up["UploadId"], PartNumber=1, Body=b"m")
    b.complete_multipart_upload(Bucket="bob-b", Key="mp", UploadId=up["UploadId"],
                                MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e["ETag"]}]})
    check(("AllUsers", "READ") in grants(b.get_object_acl(Bucket="bob-b", Key="mp")), "mpu acl")
    # CopyObject takes the request's ACL (not the source's).
    b.copy_object(Bucket="bob-b", Key="mp-copy", CopySource="bob-b/mp", ACL="authenticated-read")
    check(grants(b.get_object_acl(Bucket="bob-b", Key="mp-copy")) ==
          {(NAME2, "FULL_CONTROL"), ("AuthenticatedUsers", "READ")}, "copy acl")
    # Copying needs READ on the source.
    expect_error("AccessDenied", b.copy_object, Bucket="bob-b", Key="stolen",
                 CopySource="alice-b/by-alice")


def test_anonymous(ep):
    a, anon = client(ep), client(ep, None, None)
    a.create_bucket(Bucket="pub", ACL="public-read")
    a.put_object(Bucket="pub", Key="open", Body=b"o", ACL="public-read")
    a.put_object(Bucket="pub", Key="closed", Body=b"c")
    check(anon.get_object(Bucket="pub", Key="open")["Body"].read() == b"o", "anon read")
    check(len(anon.list_objects(Bucket="pub")["Contents"]) == 2, "anon list of public-read")
    expect_error("AccessDenied", anon.get_object, Bucket="pub", Key="closed")
    expect_error("AccessDenied", anon.put_object, Bucket="pub", Key="w", Body=b"w")
    expect_error("AccessDenied", anon.list_buckets)
    expect_error("AccessDenied", anon.create_bucket, Bucket="anon-b")
    st, _, body = raw(f"{ep}/pub/closed")
    check(st == 403 and b"<Code>AccessDenied</Code>" in body, f"raw anon 403: {st} {body}")
    st, _, body = raw(f"{ep}/pub/open")
    check(st == 200 and body == b"o", f"raw anon get: {st}")
    # public-read-write: anyone writes (the object is then anonymous's: the
    # bucket's owner reads it only by a grant).
    a.put_bucket_acl(Bucket="pub", ACL="public-read-write")
    anon.put_object(Bucket="pub", Key="w", Body=b"w", ACL="public-read")
    check(a.get_object(Bucket="pub", Key="w")["Body"].read() == b"w", "anon wrote")
    # A second user uploads in parts into it (ListParts included).
    b = client(ep, AK2, SK2)
    up = b.create_multipart_upload(Bucket="pub", Key="bob-mp")
    b.upload_part(Bucket="pub", Key="bob-mp", UploadId=up["UploadId"], PartNumber=1, Body=b"p")
    parts = b.list_parts(Bucket="pub", Key="bob-mp", UploadId=up["UploadId"])["Parts"]
    check([p["PartNumber"] for p in parts] == [1], f"bob's ListParts: {parts}")
    lp = b.list_parts(Bucket="pub", Key="bob-mp", UploadId=up["UploadId"])
    check(lp["Initiator"]["ID"] == NAME2 and lp["Owner"]["ID"] == NAME2, f"ListParts: {lp}")
    ups = a.list_multipart_uploads(Bucket="pub")["Uploads"]
    check([(u["Key"], u["Initiator"]["ID"]) for u in ups] == [("bob-mp", NAME2)], f"uploads: {ups}")
    b.complete_multipart_upload(Bucket="pub", Key="bob-mp", UploadId=up["UploadId"],
                                MultipartUpload={"Parts": [{"PartNumber": 1,
                                                            "ETag": parts[0]["ETag"]}]})
    expect_error("AccessDenied", a.get_object, Bucket="pub", Key="bob-mp")
    # authenticated-read: any signed user, not anonymous.
    a.put_object(Bucket="pub", Key="auth", Body=b"t", ACL="authenticated-read")
    check(client(ep, AK2, SK2).get_object(Bucket="pub", Key="auth")["Body"].read() == b"t",
          "authenticated read")
    expect_error("AccessDenied", anon.get_object, Bucket="pub", Key="auth")
    # A bad signature is never taken for anonymous.
    expect_error("SignatureDoesNotMatch", client(ep, AK, "wrong").get_object, Bucket="pub",
                 Key="open")
    expect_error("InvalidAccessKeyId", client(ep, "nokey", "x").get_object, Bucket="pub",
                 Key="open")


def test_sigv2(ep):
    v2 = client(ep, sig="s3")
    v2.create_bucket(Bucket="sigv2")
    v2.put_object(Bucket="sigv2", Key="dir/a b+c", Body=b"v2 body", Metadata={"k": "v"})
    check(v2.get_object(Bucket="sigv2", Key="dir/a b+c")["Body"].read() == b"v2 body", "v2 get")
    check(v2.get_object_acl(Bucket="sigv2", Key="dir/a b+c")["Owner"]["ID"] == NAME1, "v2 subresource")
    up = v2.create_multipart_upload(Bucket="sigv2", Key="mp")
    e = v2.upload_part(Bucket="sigv2", Key="mp", UploadId=up["UploadId"], PartNumber=1, Body=b"p")
    v2.complete_multipart_upload(Bucket="sigv2", Key="mp", UploadId=up["UploadId"],
                                 MultipartUpload={"Parts": [{"PartNumber": 1,
                                                             "ETag": e["ETag"]}]})
    check([o["Key"] for o in v2.list_objects(Bucket="sigv2", Prefix="dir/")["Contents"]] ==
          ["dir/a b+c"], "v2 list")
    v2b = client(ep, AK2, SK2, sig="s3")
    expect_error("AccessDenied", v2b.get_object, Bucket="sigv2", Key="mp")
    expect_error("SignatureDoesNotMatch", client(ep, AK, "bad", sig="s3").get_object,
                 Bucket="sigv2", Key="mp")
    # Presigned (AWSAccessKeyId, Expires, Signature).
    url = v2.generate_presigned_url("get_object", Params={"Bucket": "sigv2", "Key": "dir/a b+c"},
                                    ExpiresIn=300)
    check("AWSAccessKeyId=" in url and "Signature=" in url, f"a v2 URL: {url}")
    st, _, body = raw(url)
    check(st == 200 and body == b"v2 body", f"v2 presigned get: {st} {body[:200]}")
    st, _, body = raw(url.replace("Signature=", "Signature=A"))
    check(st == 403 and b"SignatureDoesNotMatch" in body, f"v2 bad presigned: {st}")
    expired = re.sub(r"Expires=\d+", f"Expires={int(time.time()) - 10}", url)
    st, _, body = raw(expired)
    check(st == 403 and b"AccessDenied" in body, f"v2 expired: {st} {body[:200]}")
    put = v2.generate_presigned_url("put_object", Params={"Bucket": "sigv2", "Key": "pp",
                                                          "ContentType": "text/plain"},
                                    ExpiresIn=300)
    st, _, body = raw(put, "PUT", b"presigned put", {"Content-Type": "text/plain"})
    check(st == 200, f"v2 presigned put: {st} {body}")
    check(v2.get_object(Bucket="sigv2", Key="pp")["Body"].read() == b"presigned put", "pp")


V2_SUBRES = ("acl", "cors", "delete", "lifecycle", "location", "partNumber", "tagging",
             "uploadId", "uploads", "versionId", "versioning", "versions")


def v2_sign(secret, method, resource, date, headers=None, sub=None):
    """AWS's SigV2 string to sign, written from its documentation (independent of botocore)."""
    headers = {k.lower(): v for k, v in (headers or {}).items()}
    amz = "".join(f"{k}:{headers[k].strip()}\n" for k in sorted(headers) if k.startswith("x-amz-"))
    subs = sorted((k, v) for k, v in (sub or {}).items() if k in V2_SUBRES)
    res = resource + ("?" + "&".join(k + (f"={v}" if v else "") for k, v in subs) if subs else "")
    sts = "\n".join([method, headers.get("content-md5", ""), headers.get("content-type", ""),
                     "" if "x-amz-date" in headers else date]) + "\n" + amz + res
    return base64.b64encode(hmac.new(secret.encode(), sts.encode(), hashlib.sha1).digest()).decode()


def test_sigv2_documented(ep):
    """The documented example, then raw SigV2 requests signed by v2_sign: virtual-host style
    (Host: bucket.localhost), x-amz-* headers, x-amz-date, sub-resources."""
    want = "qgk2+6Sv9/oM7G3qLEjTH1a1l1g="
    got = v2_sign("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "GET",
                  "/awsexamplebucket1/photos/puppy.jpg", "Tue, 27 Mar 2007 19:36:42 +0000")
    check(got == want, f"AWS's example: {got} != {want}")
    a = client(ep)
    a.create_bucket(Bucket="docv2")
    port = ep.rsplit(":", 1)[1]
    date = email.utils.formatdate(usegmt=True)
    hdrs = {"Date": date, "Content-Type": "text/plain", "x-amz-meta-b": "2", "X-Amz-Meta-A": " 1 "}
    hdrs["Authorization"] = f"AWS {AK}:" + v2_sign(SK, "PUT", "/docv2/doc/key", date, hdrs)
    st, _, body = raw(f"{ep}/docv2/doc/key", "PUT", b"doc", hdrs)
    check(st == 200, f"documented v2 PUT: {st} {body[:300]}")
    hdrs = {"Host": f"docv2.localhost:{port}", "x-amz-date": date}
    hdrs["Authorization"] = f"AWS {AK}:" + v2_sign(SK, "GET", "/docv2/doc/key", date, hdrs,
                                                   {"acl": ""})
    st, _, body = raw(f"{ep}/doc/key?acl", headers=hdrs)
    check(st == 200 and b"AccessControlPolicy" in body, f"virtual-host v2 ?acl: {st} {body[:300]}")
    # Another signature: the last base64 digit before "=" changed (to "A" it would stay the same
    # one time in 16, when the real signature already ends in "A=").
    auth = hdrs["Authorization"]
    hdrs["Authorization"] = auth[:-2] + ("E=" if auth.endswith("A=") else "A=")
    st, _, body = raw(f"{ep}/doc/key?acl", headers=hdrs)
    check(st == 403 and b"SignatureDoesNotMatch" in body, f"a changed v2 signature: {st}")
    old = email.utils.formatdate(time.time() - 3600, usegmt=True)
    hdrs = {"Date": old}
    hdrs["Authorization"] = f"AWS {AK}:" + v2_sign(SK, "GET", "/docv2/doc/key", old, hdrs)
    st, _, body = raw(f"{ep}/docv2/doc/key", headers=hdrs)
    check(st == 403 and b"RequestTimeTooSkewed" in body, f"a v2 Date an hour old: {st}")


def test_tagging(ep):
    a = client(ep)
    a.create_bucket(Bucket="tags")
    a.put_object(Bucket="tags", Key="t", Body=b"t", Tagging="k1=v1&k%202=v%3D2")
    head = a.head_object(Bucket="tags", Key="t")
    check(head["ResponseMetadata"]["HTTPHeaders"].get("x-amz-tagging-count") == "2", "count")
    ts = a.get_object(Bucket="tags", Key="t")
    check(ts.get("TagCount") == 2, f"GET's x-amz-tagging-count: {ts.get('TagCount')}")
    got = {t["Key"]: t["Value"] for t in a.get_object_tagging(Bucket="tags", Key="t")["TagSet"]}
    check(got == {"k1": "v1", "k 2": "v=2"}, f"tags from header: {got}")
    a.put_object_tagging(Bucket="tags", Key="t", Tagging={"TagSet": [
        {"Key": "a", "Value": "1"}]})
    got = a.get_object_tagging(Bucket="tags", Key="t")["TagSet"]
    check(got == [{"Key": "a", "Value": "1"}], f"put tagging: {got}")
    # CopyObject copies the tags (COPY) or takes the request's (REPLACE).
    a.copy_object(Bucket="tags", Key="c1", CopySource="tags/t")
    check(a.get_object_tagging(Bucket="tags", Key="c1")["TagSet"] == got, "copy directive")
    a.copy_object(Bucket="tags", Key="c2", CopySource="tags/t", TaggingDirective="REPLACE",
                  Tagging="z=9")
    check(a.get_object_tagging(Bucket="tags", Key="c2")["TagSet"] ==
          [{"Key": "z", "Value": "9"}], "replace directive")
    a.delete_object_tagging(Bucket="tags", Key="t")
    check(a.get_object_tagging(Bucket="tags", Key="t")["TagSet"] == [], "deleted tags")
    check("x-amz-tagging-count" not in
          a.head_object(Bucket="tags", Key="t")["ResponseMetadata"]["HTTPHeaders"], "no count")
    # AWS's limits.
    eleven = [{"Key": f"k{i}", "Value": "v"} for i in range(11)]
    expect_error("BadRequest", a.put_object_tagging, Bucket="tags", Key="t",
                 Tagging={"TagSet": eleven})
    expect_error("InvalidTag", a.put_object_tagging, Bucket="tags", Key="t",
                 Tagging={"TagSet": [{"Key": "k" * 129, "Value": "v"}]})
    expect_error("InvalidTag", a.put_object_tagging, Bucket="tags", Key="t",
                 Tagging={"TagSet": [{"Key": "k", "Value": "v" * 257}]})
    expect_error("InvalidTag", a.put_object_tagging, Bucket="tags", Key="t",
                 Tagging={"TagSet": [{"Key": "k", "Value": "1"}, {"Key": "k", "Value": "2"}]})
    expect_error("InvalidTag", a.put_object_tagging, Bucket="tags", Key="t",
                 Tagging={"TagSet": [{"Key": "aws:x", "Value": "1"}]})
    ok = [{"Key": "k" * 128, "Value": "v" * 256}] + eleven[:9]
    a.put_object_tagging(Bucket="tags", Key="t", Tagging={"TagSet": ok})
    check(len(a.get_object_tagging(Bucket="tags", Key="t")["TagSet"]) == 10, "10 at the limits")
    expect_error("BadRequest", a.put_object, Bucket="tags", Key="u", Body=b"u",
                 Tagging="&".join(f"k{i}=v" for i in range(11)))
    expect_error("NoSuchKey", a.get_object_tagging, Bucket="tags", Key="missing")
    # Tags go with the object: gone when it is deleted and written again.
    a.delete_object(Bucket="tags", Key="t")
    a.put_object(Bucket="tags", Key="t", Body=b"again")
    check(a.get_object_tagging(Bucket="tags", Key="t")["TagSet"] == [], "new object, no tags")
    # Another user may not read or change them.
    expect_error("AccessDenied", client(ep, AK2, SK2).get_object_tagging, Bucket="tags",
                 Key="c1")
    # Bucket tagging.
    expect_error("NoSuchTagSet", a.get_bucket_tagging, Bucket="tags")
    a.put_bucket_tagging(Bucket="tags", Tagging={"TagSet": [{"Key": "team", "Value": "s3"}]})
    check(a.get_bucket_tagging(Bucket="tags")["TagSet"] == [{"Key": "team", "Value": "s3"}],
          "bucket tags")
    expect_error("InvalidTag", a.put_bucket_tagging, Bucket="tags",
                 Tagging={"TagSet": [{"Key": f"k{i}", "Value": "v"} for i in range(51)]})
    a.delete_bucket_tagging(Bucket="tags")
    expect_error("NoSuchTagSet", a.get_bucket_tagging, Bucket="tags")


def test_cors(ep):
    a = client(ep)
    a.create_bucket(Bucket="cors", ACL="public-read")
    a.put_object(Bucket="cors", Key="o", Body=b"o", ACL="public-read")
    url = f"{ep}/cors/o"
    pre = {"Origin": "https://app.example.com", "Access-Control-Request-Method": "PUT"}
    st, _, body = raw(url, "OPTIONS", headers=pre)
    check(st == 403 and b"CORS is not enabled" in body, f"no config: {st} {body}")
    expect_error("NoSuchCORSConfiguration", a.get_bucket_cors, Bucket="cors")
    rules = [{"AllowedOrigins": ["https://*.example.com"], "AllowedMethods": ["PUT", "GET"],
              "AllowedHeaders": ["x-amz-*", "content-type"], "ExposeHeaders": ["ETag"],
              "MaxAgeSeconds": 600},
             {"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}]
    a.put_bucket_cors(Bucket="cors", CORSConfiguration={"CORSRules": rules})
    got = a.get_bucket_cors(Bucket="cors")["CORSRules"]
    check(got[0]["AllowedOrigins"] == ["https://*.example.com"] and got[0]["MaxAgeSeconds"] == 600
          and got[1]["AllowedMethods"] == ["GET"], f"get cors: {got}")
    st, h, _ = raw(url, "OPTIONS", headers=dict(pre, **{
        "Access-Control-Request-Headers": "X-Amz-Date, Content-Type"}))
    check(st == 200 and h["Access-Control-Allow-Origin"] == "https://app.example.com" and
          "PUT" in h["Access-Control-Allow-Methods"] and h["Access-Control-Max-Age"] == "600" and
          h["Access-Control-Expose-Headers"] == "ETag" and
          h["Access-Control-Allow-Headers"] == "X-Amz-Date, Content-Type", f"preflight: {st} {h}")
    # A header no rule allows, a method no rule allows, an origin no rule allows.
    st, _, _ = raw(url, "OPTIONS", headers=dict(pre, **{"Access-Control-Request-Headers": "x-y"}))
    check(st == 403, f"header not allowed: {st}")
    st, _, _ = raw(url, "OPTIONS", headers=dict(pre, **{"Access-Control-Request-Method": "DELETE"}))
    check(st == 403, f"method not allowed: {st}")
    st, h, _ = raw(url, "OPTIONS", headers={"Origin": "https://other.org",
                                            "Access-Control-Request-Method": "GET"})
    check(st == 200 and h["Access-Control-Allow-Origin"] == "*", f"the * rule: {st} {h}")
    st, _, _ = raw(url, "OPTIONS", headers={"Origin": "https://other.org",
                                            "Access-Control-Request-Method": "PUT"})
    check(st == 403, f"PUT from another origin: {st}")
    st, _, _ = raw(url, "OPTIONS", headers={"Access-Control-Request-Method": "GET"})
    check(st == 400, f"no Origin: {st}")
    # An actual request with an Origin carries the headers; without one, none.
    st, h, body = raw(url, headers={"Origin": "https://a.example.com"})
    check(st == 200 and body == b"o" and h["Access-Control-Allow-Origin"] ==
          "https://a.example.com" and h["Access-Control-Expose-Headers"] == "ETag", f"get: {h}")
    st, h, _ = raw(url)
    check("Access-Control-Allow-Origin" not in h, "no Origin, no CORS headers")
    expect_error("InvalidRequest", a.put_bucket_cors, Bucket="cors", CORSConfiguration={
        "CORSRules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["PATCH"]}]})
    expect_error("InvalidRequest", a.put_bucket_cors, Bucket="cors", CORSConfiguration={
        "CORSRules": [{"AllowedOrigins": ["*a*"], "AllowedMethods": ["GET"]}]})
    expect_error("AccessDenied", client(ep, AK2, SK2).get_bucket_cors, Bucket="cors")
    a.delete_bucket_cors(Bucket="cors")
    expect_error("NoSuchCORSConfiguration", a.get_bucket_cors, Bucket="cors")


def test_hostile(ep):
    """Config bodies are bounded: size, depth, counts; malformed ones are 400."""
    a = client(ep)
    a.create_bucket(Bucket="hostile")
    a.put_object(Bucket="hostile", Key="o", Body=b"o")
    grant = ('<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
             'xsi:type="Group"><URI>http://acs.amazonaws.com/groups/global/AllUsers</URI>'
             '</Grantee><Permission>READ</Permission></Grant>')
    pol = ('<AccessControlPolicy><Owner><ID>s3sim</ID></Owner><AccessControlList>%s'
           '</AccessControlList></AccessControlPolicy>')
    st, _, body = signed(ep, "PUT", "/hostile/o?acl", (pol % (grant * 100)).encode())
    check(st == 200, f"100 grants: {st} {body[:200]}")
    st, _, body = signed(ep, "PUT", "/hostile/o?acl", (pol % (grant * 101)).encode())
    check(st == 400 and b"MalformedACLError" in body, f"101 grants: {st} {body[:200]}")
    st, _, body = signed(ep, "PUT", "/hostile?acl", (pol % (" " * 70000)).encode())
    check(st == 400 and b"MalformedACLError" in body, f"70 KB ACL: {st} {body[:200]}")
    deep = ("<a>" * 50 + "</a>" * 50).encode()
    for path in ("/hostile?acl", "/hostile?tagging", "/hostile?cors", "/hostile/o?tagging"):
        st, _, body = signed(ep, "PUT", path, deep)
        check(st == 400, f"{path} deep XML: {st} {body[:200]}")
        st, _, body = signed(ep, "PUT", path, b"<Tagging><TagSet><Tag><Key>")
        check(st == 400, f"{path} truncated XML: {st} {body[:200]}")
    rule = "<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>"
    st, _, body = signed(ep, "PUT", "/hostile?cors",
                         f"<CORSConfiguration>{rule * 101}</CORSConfiguration>".encode())
    check(st == 400 and b"MalformedXML" in body, f"101 CORS rules: {st} {body[:200]}")
    st, _, body = signed(ep, "PUT", "/hostile?cors", b"<CORSConfiguration><CORSRule>"
                         b"<AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>")
    check(st == 400 and b"MalformedXML" in body, f"a rule without an origin: {st} {body[:200]}")
    st, _, body = signed(ep, "PUT", "/hostile/o?acl", b"", {"x-amz-acl": "private",
                                                           "x-amz-grant-read": 'id="s3sim"'})
    check(st == 400 and b"InvalidRequest" in body, f"canned and grants: {st} {body[:200]}")
    st, _, body = signed(ep, "PUT", "/hostile/o?acl", b"")
    check(st == 400 and b"MissingSecurityHeader" in body, f"no ACL at all: {st} {body[:200]}")
    st, _, body = signed(ep, "PUT", "/hostile/o", b"x", {"x-amz-tagging": "k=%zz"})
    check(st == 400 and b"InvalidArgument" in body, f"bad x-amz-tagging: {st} {body[:200]}")
    # Anonymous PUT bodies over 64 KiB are refused before they are read, unless the bucket
    # lets anyone write.
    big = b"b" * (256 * 1024)
    st, _, body = raw(f"{ep}/hostile/anon-big", "PUT", big)
    check(st == 403 and b"AccessDenied" in body, f"anonymous big PUT: {st}")
    a.put_bucket_acl(Bucket="hostile", ACL="public-read-write")
    st, _, body = raw(f"{ep}/hostile/anon-big", "PUT", big)
    check(st == 200, f"anonymous big PUT into a public-read-write bucket: {st} {body[:200]}")


def test_bad_users(cmd):
    """Bad --user values and users files: FILE:LINE:COL and exit 2."""
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "users")
        cases = [("ak1 sk1 name1\n# comment\n\nak2\n", f"{path}:4:1:"),
                 ("ak1 sk1 name1\n  ak2 s\tn a\n", f"{path}:2:11:"),
                 ("ak1 sk1\nak1 sk2\n", f"{path}:2:1:"),
                 ("ak1 sk1 bad<name\n", f"{path}:1:12:"),
                 ("ak1 sk1 s3sim\n", f"{path}:1:1:"),
                 ("ak1 sk1\nak2 sk2 ak1\n", f"{path}:2:1:"),
                 ("a:k sk\n", f"{path}:1:2:")]
        for text, want in cases:
            with open(path, "w") as f:
                f.write(text)
            p = subprocess.run(list(cmd) + ["--port", "0", "--users", path], capture_output=True,
                               text=True, timeout=30)
            check(p.returncode == 2 and want in p.stderr, f"{text!r}: {p.returncode} {p.stderr}")
        p = subprocess.run(list(cmd) + ["--port", "0", "--user", "onlykey"], capture_output=True,
                           text=True, timeout=30)
        check(p.returncode == 2 and "--user:1:" in p.stderr, f"--user onlykey: {p.stderr}")
        p = subprocess.run(list(cmd) + ["--port", "0", "--users", os.path.join(d, "none")],
                           capture_output=True, text=True, timeout=30)
        check(p.returncode == 2 and "cannot open" in p.stderr, f"missing file: {p.stderr}")


def test_per_version(ep):
    """ACLs and tags belong to one object version, as in S3: Get/PutObjectAcl and
    Get/Put/DeleteObjectTagging with VersionId, the access decision of a GET by
    version, a new version starting without an older one's, a delete marker
    keeping the hidden versions' own, each version's owner in ListObjectVersions."""
    a, b = client(ep), client(ep, AK2, SK2)
    a.create_bucket(Bucket="pvers")
    a.put_object(Bucket="pvers", Key="k", Body=b"null", Tagging="v=null")  # the null version
    a.put_bucket_versioning(Bucket="pvers", VersioningConfiguration={"Status": "Enabled"})
    v1 = a.put_object(Bucket="pvers", Key="k", Body=b"one", ACL="public-read",
                      Tagging="v=1")["VersionId"]
    v2 = a.put_object(Bucket="pvers", Key="k", Body=b"two")["VersionId"]

    def tags(**kw):
        r = a.get_object_tagging(Bucket="pvers", Key="k", **kw)
        return {t["Key"]: t["Value"] for t in r["TagSet"]}

    check(tags() == {}, f"the current version (v2) has no tags: {tags()}")
    check(tags(VersionId=v1) == {"v": "1"}, f"v1's tags: {tags(VersionId=v1)}")
    check(tags(VersionId="null") == {"v": "null"}, "the null version's tags")
    check(a.get_object_tagging(Bucket="pvers", Key="k", VersionId=v1)["VersionId"] == v1,
          "GetObjectTagging answers x-amz-version-id")
    check(a.get_object_tagging(Bucket="pvers", Key="k")["VersionId"] == v2, "the current one's id")
    # Each version's ACL: v1 public-read, v2 private (the default).
    check(("AllUsers", "READ") in grants(a.get_object_acl(Bucket="pvers", Key="k", VersionId=v1)),
          "v1 is public-read")
    check(("AllUsers", "READ") not in grants(a.get_object_acl(Bucket="pvers", Key="k")),
          "v2 is private")
    check(b.get_object(Bucket="pvers", Key="k", VersionId=v1)["Body"].read() == b"one",
          "bob reads the public version")
    expect_error("AccessDenied", b.get_object, Bucket="pvers", Key="k")
    expect_error("403", b.head_object, Bucket="pvers", Key="k", VersionId="null")
    # Changing one version's ACL or tags leaves the others'.
    a.put_object_acl(Bucket="pvers", Key="k", VersionId=v2, ACL="public-read")
    a.put_object_acl(Bucket="pvers", Key="k", VersionId=v1, ACL="private")
    check(b.get_object(Bucket="pvers", Key="k")["Body"].read() == b"two", "v2 made public")
    expect_error("AccessDenied", b.get_object, Bucket="pvers", Key="k", VersionId=v1)
    r = a.put_object_tagging(Bucket="pvers", Key="k", VersionId=v2,
                             Tagging={"TagSet": [{"Key": "v", "Value": "2"}]})
    check(r["VersionId"] == v2, f"PutObjectTagging's version: {r}")
    check(tags() == {"v": "2"} and tags(VersionId=v1) == {"v": "1"}, "tags of v2 only")
    r = a.delete_object_tagging(Bucket="pvers", Key="k", VersionId=v1)
    check(r["VersionId"] == v1, f"DeleteObjectTagging's version: {r}")
    check(tags(VersionId=v1) == {} and tags() == {"v": "2"}, "tags of v1 deleted only")
    # x-amz-tagging-count of the version read.
    h = a.head_object(Bucket="pvers", Key="k", VersionId="null")["ResponseMetadata"]["HTTPHeaders"]
    check(h.get("x-amz-tagging-count") == "1", f"the null version's tag count: {h}")
    h = a.head_object(Bucket="pvers", Key="k", VersionId=v1)["ResponseMetadata"]["HTTPHeaders"]
    check("x-amz-tagging-count" not in h, f"v1 has no tags now: {h}")
    expect_error("NoSuchVersion", a.get_object_tagging, Bucket="pvers", Key="k", VersionId="0" * 32)
    expect_error("NoSuchVersion", a.put_object_acl, Bucket="pvers", Key="k", VersionId="0" * 32,
                 ACL="private")
    # A delete marker hides the versions and keeps theirs.
    m = a.delete_object(Bucket="pvers", Key="k")["VersionId"]
    expect_error("NoSuchKey", a.get_object_tagging, Bucket="pvers", Key="k")
    expect_error("MethodNotAllowed", a.get_object_acl, Bucket="pvers", Key="k", VersionId=m)
    a.delete_object(Bucket="pvers", Key="k", VersionId=m)
    check(tags() == {"v": "2"}, "v2's tags back with it")
    check(b.get_object(Bucket="pvers", Key="k")["Body"].read() == b"two", "v2's ACL back with it")
    # A version deleted for good takes its own along: v1 is current, private, untagged.
    a.delete_object(Bucket="pvers", Key="k", VersionId=v2)
    check(tags() == {}, "v1 current, no tags")
    expect_error("AccessDenied", b.get_object, Bucket="pvers", Key="k")
    # CopyObject from a version takes that version's tags (tagging directive COPY).
    a.copy_object(Bucket="pvers", Key="c", CopySource={"Bucket": "pvers", "Key": "k",
                                                    "VersionId": "null"})
    got = a.get_object_tagging(Bucket="pvers", Key="c")["TagSet"]
    check(got == [{"Key": "v", "Value": "null"}], f"the copy's tags: {got}")
    # Another user's version: its owner in ListObjectVersions and GetObjectAcl.
    a.put_bucket_acl(Bucket="pvers", GrantFullControl=f'id="{NAME1}"', GrantWrite=f'id="{NAME2}"')
    vb = b.put_object(Bucket="pvers", Key="k", Body=b"bob's")["VersionId"]
    owners = {v["VersionId"]: v["Owner"]["ID"]
              for v in a.list_object_versions(Bucket="pvers", Prefix="k")["Versions"]}
    check(owners == {vb: NAME2, v1: NAME1, "null": NAME1}, f"version owners: {owners}")
    check(b.get_object_acl(Bucket="pvers", Key="k")["Owner"]["ID"] == NAME2, "bob owns the current")
    check(a.get_object_acl(Bucket="pvers", Key="k", VersionId=v1)["Owner"]["ID"] == NAME1,
          "alice owns v1")
    expect_error("AccessDenied", a.get_object, Bucket="pvers", Key="k")
    check(a.get_object(Bucket="pvers", Key="k", VersionId=v1)["Body"].read() == b"one", "v1 hers")
    # Suspended: a write replaces the null version, and its tags and ACL with it.
    a.put_bucket_versioning(Bucket="pvers", VersioningConfiguration={"Status": "Suspended"})
    a.put_object(Bucket="pvers", Key="k", Body=b"new null")
    check(tags(VersionId="null") == {}, "the new null version has no tags")
    check(tags(VersionId=v1) == {} and b.get_object_acl(
        Bucket="pvers", Key="k", VersionId=vb)["Owner"]["ID"] == NAME2, "the others kept")


def main():
    cmd = sys.argv[1:]
    if not cmd:
        raise SystemExit("usage: access_test.py SERVE-COMMAND...")
    test_bad_users(cmd)
    with tempfile.TemporaryDirectory() as d:
        users = os.path.join(d, "users")
        with open(users, "w") as f:
            f.write(f"# the third user\n{AK3}\t{SK3}  {NAME3}\n")
        p, ep = start(cmd, "--user", f"{AK2}:{SK2}:{NAME2}", "--users", users)
        try:
            for t in (test_users, test_anonymous, test_sigv2, test_sigv2_documented, test_tagging,
                      test_per_version, test_cors,
                      test_hostile):
                t(ep)
                print(f"ok {t.__name__}")
        finally:
            p.terminate()
            rc = p.wait(timeout=60)
        # serve exits 0 on SIGTERM; a sanitizer's report (ASan builds) is a failure.
        err = p.stderr.read()
        check(rc == 0 and "Sanitizer" not in err and "runtime error" not in err,
              f"the server's exit: {rc}: {err[-3000:]}")
    print(f"access_test: {CHECKS} checks passed")


if __name__ == "__main__":
    main()
