#!/usr/bin/env python3
"""`s3sim serve`: versioning and object lock with boto3 (docs/http.md
"Versioning and object lock"): PutBucketVersioning (Enabled, Suspended),
version ids, delete markers, GET/HEAD/DELETE by versionId, ListObjectVersions
with paging, CopyObject from a version, the null version, DeleteObjects with
version ids; object lock: a bucket made with the lock, default retention,
retention and legal hold per version, the governance bypass, deletes refused
with AccessDenied; the lock headers of CreateMultipartUpload and CopyObject.

Usage: versioning_test.py SERVE-COMMAND...
Exit 77 (skipped) when boto3 is not importable.
"""
import datetime
import os
import sys
import urllib.parse
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from double_test import ClientError, client, expect_error, raw, start  # noqa: E402  (exits 77 without boto3)


NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


def versions(s3, bucket, **kw):
    """Every (key, version id, latest, is-marker) in the listing's order (raw
    XML: boto3 splits versions from markers), paging by 2."""
    out, q = [], {"versions": "", "max-keys": "2"}
    q.update({"prefix": kw["Prefix"]} if "Prefix" in kw else {})
    while True:
        path = f"/{bucket}?" + urllib.parse.urlencode(sorted(q.items()))
        status, _, body = raw(s3.meta.endpoint_url, "GET", path)
        assert status == 200, body
        root = ET.fromstring(body)
        entries = [e for e in root if e.tag in (NS + "Version", NS + "DeleteMarker")]
        assert len(entries) <= 2, body
        out += [(e.find(NS + "Key").text, e.find(NS + "VersionId").text,
                 e.find(NS + "IsLatest").text == "true", e.tag == NS + "DeleteMarker")
                for e in entries]
        if root.find(NS + "IsTruncated").text != "true":
            return out
        q["key-marker"] = root.find(NS + "NextKeyMarker").text
        vm = root.find(NS + "NextVersionIdMarker")
        q["version-id-marker"] = vm.text if vm is not None else ""


def versioning(s3, bucket):
    s3.create_bucket(Bucket=bucket)
    assert "Status" not in s3.get_bucket_versioning(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="old", Body=b"before versioning")
    r = s3.put_object(Bucket=bucket, Key="k", Body=b"unversioned")
    assert "VersionId" not in r, r
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"

    v1 = s3.put_object(Bucket=bucket, Key="k", Body=b"one")["VersionId"]
    v2 = s3.put_object(Bucket=bucket, Key="k", Body=b"two")["VersionId"]
    assert len(v1) == 32 and len(v2) == 32 and v1 != v2, (v1, v2)
    g = s3.get_object(Bucket=bucket, Key="k")
    assert g["Body"].read() == b"two" and g["VersionId"] == v2
    assert s3.get_object(Bucket=bucket, Key="k", VersionId=v1)["Body"].read() == b"one"
    assert s3.get_object(Bucket=bucket, Key="k", VersionId="null")["Body"].read() == b"unversioned"
    h = s3.head_object(Bucket=bucket, Key="k", VersionId=v1)
    assert h["ContentLength"] == 3 and h["VersionId"] == v1
    # The object written before versioning is the null version.
    assert s3.head_object(Bucket=bucket, Key="old")["VersionId"] == "null"
    expect_error("NoSuchVersion", s3.get_object, Bucket=bucket, Key="k",
                 VersionId="0" * 32)
    expect_error("InvalidArgument", s3.get_object, Bucket=bucket, Key="k", VersionId="bad")

    # A delete without version id: a delete marker.
    d = s3.delete_object(Bucket=bucket, Key="k")
    assert d["DeleteMarker"] is True and len(d["VersionId"]) == 32, d
    marker = d["VersionId"]
    e = expect_error("NoSuchKey", s3.get_object, Bucket=bucket, Key="k")
    assert e.response["ResponseMetadata"]["HTTPHeaders"].get("x-amz-delete-marker") == "true"
    e = expect_error("405", s3.head_object, Bucket=bucket, Key="k", VersionId=marker)
    e = expect_error("MethodNotAllowed", s3.get_object, Bucket=bucket, Key="k", VersionId=marker)
    assert s3.get_object(Bucket=bucket, Key="k", VersionId=v2)["Body"].read() == b"two"
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert keys == ["old"], keys

    # The listing: every version and the marker, newest first, paged.
    got = versions(s3, bucket)
    want = [("k", marker, True, True), ("k", v2, False, False), ("k", v1, False, False),
            ("k", "null", False, False), ("old", "null", True, False)]
    assert got == want, got

    # Removing the marker brings v2 back; deleting v2 by id makes v1 current.
    d = s3.delete_object(Bucket=bucket, Key="k", VersionId=marker)
    assert d["DeleteMarker"] is True and d["VersionId"] == marker, d
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"two"
    d = s3.delete_object(Bucket=bucket, Key="k", VersionId=v2)
    assert d["VersionId"] == v2 and not d.get("DeleteMarker"), d
    g = s3.get_object(Bucket=bucket, Key="k")
    assert g["Body"].read() == b"one" and g["VersionId"] == v1
    # S3 answers 204 for a version that is not there.
    s3.delete_object(Bucket=bucket, Key="k", VersionId="0" * 32)

    # CopyObject from a version.
    c = s3.copy_object(Bucket=bucket, Key="copy",
                       CopySource={"Bucket": bucket, "Key": "k", "VersionId": "null"})
    assert c["CopySourceVersionId"] == "null" and len(c["VersionId"]) == 32, c
    assert s3.get_object(Bucket=bucket, Key="copy")["Body"].read() == b"unversioned"

    # A multipart upload makes a version too.
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    etag = s3.upload_part(Bucket=bucket, Key="mp", UploadId=up, PartNumber=1,
                          Body=b"m" * 100)["ETag"]
    vm = s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=up, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": etag}]})["VersionId"]
    assert s3.head_object(Bucket=bucket, Key="mp")["VersionId"] == vm

    # Paging from a key and version marker, and with a delimiter.
    s3.put_object(Bucket=bucket, Key="dir/a", Body=b"a")
    s3.put_object(Bucket=bucket, Key="dir/b", Body=b"b")
    page = s3.list_object_versions(Bucket=bucket, KeyMarker="k", VersionIdMarker=v1)
    assert [(v["Key"], v["VersionId"]) for v in page["Versions"]][0] == ("k", "null"), page
    page = s3.list_object_versions(Bucket=bucket, Delimiter="/")
    assert [p["Prefix"] for p in page["CommonPrefixes"]] == ["dir/"], page
    assert all(not v["Key"].startswith("dir/") for v in page["Versions"])

    # Suspended: writes and deletes make the null version, replacing it.
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Suspended"
    r = s3.put_object(Bucket=bucket, Key="k", Body=b"suspended")
    assert r.get("VersionId") == "null", r
    ids = [v[1] for v in versions(s3, bucket, Prefix="k")]
    assert ids == ["null", v1], ids  # the old null version was replaced
    d = s3.delete_object(Bucket=bucket, Key="k")
    assert d["DeleteMarker"] and d["VersionId"] == "null", d
    ids = [(v[1], v[3]) for v in versions(s3, bucket, Prefix="k")]
    assert ids == [("null", True), (v1, False)], ids

    # DeleteObjects with version ids, then an empty bucket can go.
    expect_error("BucketNotEmpty", s3.delete_bucket, Bucket=bucket)
    every = versions(s3, bucket)
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [
        {"Key": k, "VersionId": v} for k, v, _, _ in every]})
    assert len(r["Deleted"]) == len(every) and not r.get("Errors"), r
    assert versions(s3, bucket) == []
    s3.delete_bucket(Bucket=bucket)


def future(days):
    return datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=days)


def object_lock(s3, bucket):
    s3.create_bucket(Bucket="plain-lock")
    expect_error("ObjectLockConfigurationNotFoundError", s3.get_object_lock_configuration,
                 Bucket="plain-lock")
    s3.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    cfg = s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"]
    assert cfg["ObjectLockEnabled"] == "Enabled" and "Rule" not in cfg, cfg
    expect_error("InvalidBucketState", s3.put_bucket_versioning, Bucket=bucket,
                 VersioningConfiguration={"Status": "Suspended"})

    # A version without retention can be deleted; a delete marker always can.
    v0 = s3.put_object(Bucket=bucket, Key="free", Body=b"x")["VersionId"]
    expect_error("NoSuchObjectLockConfiguration", s3.get_object_retention, Bucket=bucket,
                 Key="free")
    s3.delete_object(Bucket=bucket, Key="free", VersionId=v0)

    # Default retention: GOVERNANCE for a day.
    s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled",
        "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}})
    cfg = s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"]
    assert cfg["Rule"]["DefaultRetention"] == {"Mode": "GOVERNANCE", "Days": 1}, cfg
    v1 = s3.put_object(Bucket=bucket, Key="gov", Body=b"g")["VersionId"]
    ret = s3.get_object_retention(Bucket=bucket, Key="gov", VersionId=v1)["Retention"]
    left = ret["RetainUntilDate"] - datetime.datetime.now(datetime.timezone.utc)
    assert ret["Mode"] == "GOVERNANCE" and datetime.timedelta(hours=23) < left, ret
    h = s3.head_object(Bucket=bucket, Key="gov")
    assert h["ObjectLockMode"] == "GOVERNANCE", h
    e = expect_error("AccessDenied", s3.delete_object, Bucket=bucket, Key="gov", VersionId=v1)
    assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    # A simple delete makes a marker, allowed.
    m = s3.delete_object(Bucket=bucket, Key="gov")["VersionId"]
    s3.delete_object(Bucket=bucket, Key="gov", VersionId=m)
    # Shortening GOVERNANCE needs the bypass.
    expect_error("AccessDenied", s3.put_object_retention, Bucket=bucket, Key="gov",
                 VersionId=v1, Retention={"Mode": "GOVERNANCE", "RetainUntilDate": future(0.5)})
    s3.put_object_retention(Bucket=bucket, Key="gov", VersionId=v1,
                            Retention={"Mode": "GOVERNANCE", "RetainUntilDate": future(2)})
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "gov", "VersionId": v1}]})
    assert r["Errors"][0]["Code"] == "AccessDenied", r
    s3.delete_object(Bucket=bucket, Key="gov", VersionId=v1, BypassGovernanceRetention=True)
    expect_error("404", s3.head_object, Bucket=bucket, Key="gov", VersionId=v1)

    # COMPLIANCE from the PutObject headers: no bypass, no shortening.
    v2 = s3.put_object(Bucket=bucket, Key="comp", Body=b"c", ObjectLockMode="COMPLIANCE",
                       ObjectLockRetainUntilDate=future(3))["VersionId"]
    assert s3.get_object_retention(Bucket=bucket, Key="comp")["Retention"]["Mode"] == "COMPLIANCE"
    expect_error("AccessDenied", s3.delete_object, Bucket=bucket, Key="comp", VersionId=v2,
                 BypassGovernanceRetention=True)
    expect_error("AccessDenied", s3.put_object_retention, Bucket=bucket, Key="comp",
                 VersionId=v2, BypassGovernanceRetention=True,
                 Retention={"Mode": "GOVERNANCE", "RetainUntilDate": future(4)})

    # Legal hold, independent of retention.
    s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled"})
    v3 = s3.put_object(Bucket=bucket, Key="held", Body=b"h")["VersionId"]
    assert s3.get_object_legal_hold(Bucket=bucket, Key="held")["LegalHold"]["Status"] == "OFF"
    s3.put_object_legal_hold(Bucket=bucket, Key="held", VersionId=v3, LegalHold={"Status": "ON"})
    assert s3.get_object_legal_hold(Bucket=bucket, Key="held")["LegalHold"]["Status"] == "ON"
    assert s3.head_object(Bucket=bucket, Key="held")["ObjectLockLegalHoldStatus"] == "ON"
    expect_error("AccessDenied", s3.delete_object, Bucket=bucket, Key="held", VersionId=v3,
                 BypassGovernanceRetention=True)
    s3.put_object_legal_hold(Bucket=bucket, Key="held", VersionId=v3, LegalHold={"Status": "OFF"})
    s3.delete_object(Bucket=bucket, Key="held", VersionId=v3)

    # Lock headers on a bucket without the lock, and a date in the past.
    expect_error("InvalidRequest", s3.put_object, Bucket="plain-lock", Key="x", Body=b"x",
                 ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=future(1))
    expect_error("InvalidRequest", s3.get_object_retention, Bucket="plain-lock", Key="x")
    expect_error("InvalidBucketState", s3.put_object_lock_configuration, Bucket="plain-lock",
                 ObjectLockConfiguration={"ObjectLockEnabled": "Enabled"})
    expect_error("InvalidArgument", s3.put_object, Bucket=bucket, Key="x", Body=b"x",
                 ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=future(-1))


def lock_on_mpu_and_copy(s3, bucket):
    """The lock headers of CreateMultipartUpload and CopyObject lock the version
    made (the completed upload's, the copy's); a copy does not take the
    source's lock; wrong headers are refused before anything is made."""
    up = s3.create_multipart_upload(Bucket=bucket, Key="mpl", ObjectLockMode="GOVERNANCE",
                                    ObjectLockRetainUntilDate=future(2),
                                    ObjectLockLegalHoldStatus="ON")["UploadId"]
    etag = s3.upload_part(Bucket=bucket, Key="mpl", UploadId=up, PartNumber=1,
                          Body=b"p" * 100)["ETag"]
    v = s3.complete_multipart_upload(Bucket=bucket, Key="mpl", UploadId=up, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": etag}]})["VersionId"]
    h = s3.head_object(Bucket=bucket, Key="mpl", VersionId=v)
    assert h["ObjectLockMode"] == "GOVERNANCE" and h["ObjectLockLegalHoldStatus"] == "ON", h
    left = h["ObjectLockRetainUntilDate"] - datetime.datetime.now(datetime.timezone.utc)
    assert datetime.timedelta(days=1.9) < left < datetime.timedelta(days=2.1), left
    e = expect_error("AccessDenied", s3.delete_object, Bucket=bucket, Key="mpl", VersionId=v,
                     BypassGovernanceRetention=True)  # the legal hold
    s3.put_object_legal_hold(Bucket=bucket, Key="mpl", VersionId=v, LegalHold={"Status": "OFF"})
    expect_error("AccessDenied", s3.delete_object, Bucket=bucket, Key="mpl", VersionId=v)
    s3.delete_object(Bucket=bucket, Key="mpl", VersionId=v, BypassGovernanceRetention=True)
    # An upload without the headers: nothing (the bucket has no default retention now).
    up = s3.create_multipart_upload(Bucket=bucket, Key="mpf")["UploadId"]
    etag = s3.upload_part(Bucket=bucket, Key="mpf", UploadId=up, PartNumber=1,
                          Body=b"f")["ETag"]
    v = s3.complete_multipart_upload(Bucket=bucket, Key="mpf", UploadId=up, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": etag}]})["VersionId"]
    expect_error("NoSuchObjectLockConfiguration", s3.get_object_retention, Bucket=bucket,
                 Key="mpf", VersionId=v)
    s3.delete_object(Bucket=bucket, Key="mpf", VersionId=v)

    # CopyObject: the request's lock, never the source's.
    s3.put_object(Bucket=bucket, Key="csrc", Body=b"s", ObjectLockMode="COMPLIANCE",
                  ObjectLockRetainUntilDate=future(1))
    c = s3.copy_object(Bucket=bucket, Key="cdst", CopySource={"Bucket": bucket, "Key": "csrc"},
                       ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=future(3),
                       ObjectLockLegalHoldStatus="ON")
    vd = c["VersionId"]
    ret = s3.get_object_retention(Bucket=bucket, Key="cdst", VersionId=vd)["Retention"]
    left = ret["RetainUntilDate"] - datetime.datetime.now(datetime.timezone.utc)
    assert ret["Mode"] == "GOVERNANCE" and datetime.timedelta(days=2.9) < left, ret
    hold = s3.get_object_legal_hold(Bucket=bucket, Key="cdst", VersionId=vd)["LegalHold"]
    assert hold["Status"] == "ON", hold
    c2 = s3.copy_object(Bucket=bucket, Key="cdst2", CopySource={"Bucket": bucket, "Key": "csrc"})
    expect_error("NoSuchObjectLockConfiguration", s3.get_object_retention, Bucket=bucket,
                 Key="cdst2", VersionId=c2["VersionId"])
    s3.delete_object(Bucket=bucket, Key="cdst2", VersionId=c2["VersionId"])
    # Wrong lock headers: refused before the upload or the copy is made.
    expect_error("InvalidRequest", s3.create_multipart_upload, Bucket="plain-lock", Key="x",
                 ObjectLockLegalHoldStatus="ON")
    assert not s3.list_multipart_uploads(Bucket="plain-lock").get("Uploads"), "no upload made"
    expect_error("InvalidArgument", s3.create_multipart_upload, Bucket=bucket, Key="x",
                 ObjectLockMode="GOVERNANCE")
    expect_error("InvalidArgument", s3.create_multipart_upload, Bucket=bucket, Key="x",
                 ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=future(-1))
    assert not [u for u in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
                if u["Key"] == "x"], "no upload made"
    expect_error("InvalidRequest", s3.copy_object, Bucket="plain-lock", Key="y",
                 CopySource={"Bucket": bucket, "Key": "csrc"}, ObjectLockLegalHoldStatus="ON")
    expect_error("InvalidArgument", s3.copy_object, Bucket=bucket, Key="y",
                 CopySource={"Bucket": bucket, "Key": "csrc"}, ObjectLockLegalHoldStatus="MAYBE")
    expect_error("404", s3.head_object, Bucket="plain-lock", Key="y")
    expect_error("404", s3.head_object, Bucket=bucket, Key="y")


def main():
    cmd = sys.argv[1:]
    if not cmd:
        raise SystemExit("usage: versioning_test.py SERVE-COMMAND...")
    p, ep = start(cmd)
    try:
        s3 = client(ep)
        versioning(s3, "ver")
        object_lock(s3, "locked")
        lock_on_mpu_and_copy(s3, "locked")
    except ClientError as e:
        raise SystemExit(f"FAIL: {e}")
    finally:
        p.terminate()
        p.wait(timeout=10)
    print("PASS: versioning and object lock (boto3)")


if __name__ == "__main__":
    main()
