#!/usr/bin/env python3
"""`s3sim serve`: multipart checksums with boto3 (docs/http.md "Checksums"):
x-amz-checksum-algorithm and -type at CreateMultipartUpload, per-part
checksums (sent or computed), the composite "<checksum of the parts'
checksums>-N" and the FULL_OBJECT CRC at Complete, returned with
x-amz-checksum-mode: ENABLED, by GetObjectAttributes and by ListParts; the
refusals (a part missing its checksum, a wrong one, a wrong full-object value,
an algorithm that does not match, a type the algorithm does not have).

Usage: mpu_checksum_test.py SERVE-COMMAND...
Exit 77 (skipped) when boto3 is not importable.
"""
import base64
import hashlib
import os
import sys
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from double_test import MiB, ClientError, client, expect_error, start  # noqa: E402

B = "mpuck"
P1, P2 = os.urandom(5 * MiB), os.urandom(1000)


def crc32(data):
    return zlib.crc32(data).to_bytes(4, "big")


def b64(raw):
    return base64.b64encode(raw).decode()


def upload(s3, key, alg, ctype=None, send_part_cksum=True):
    kw = {"ChecksumType": ctype} if ctype else {}
    r = s3.create_multipart_upload(Bucket=B, Key=key, ChecksumAlgorithm=alg, **kw)
    assert r["ChecksumAlgorithm"] == alg, r
    up, parts = r["UploadId"], []
    for n, body in ((1, P1), (2, P2)):
        pkw = {"ChecksumAlgorithm": alg} if send_part_cksum else {}
        pr = s3.upload_part(Bucket=B, Key=key, UploadId=up, PartNumber=n, Body=body, **pkw)
        parts.append({"PartNumber": n, "ETag": pr["ETag"], "Checksum" + alg: pr["Checksum" + alg]})
    return up, parts, r


def composite_crc32(s3):
    up, parts, r = upload(s3, "comp", "CRC32")
    assert r["ChecksumType"] == "COMPOSITE", r
    assert [p["ChecksumCRC32"] for p in parts] == [b64(crc32(P1)), b64(crc32(P2))], parts
    lp = s3.list_parts(Bucket=B, Key="comp", UploadId=up)
    assert lp["ChecksumAlgorithm"] == "CRC32", lp
    assert [p["ChecksumCRC32"] for p in lp["Parts"]] == [b64(crc32(P1)), b64(crc32(P2))], lp
    # A part missing its checksum, then a wrong one: refused, the upload stays.
    bare = [{k: v for k, v in p.items() if k != "ChecksumCRC32"} for p in parts]
    expect_error("InvalidRequest", s3.complete_multipart_upload, Bucket=B, Key="comp",
                 UploadId=up, MultipartUpload={"Parts": bare})
    wrong = [dict(parts[0], ChecksumCRC32=b64(crc32(b"x"))), parts[1]]
    expect_error("InvalidPart", s3.complete_multipart_upload, Bucket=B, Key="comp",
                 UploadId=up, MultipartUpload={"Parts": wrong})
    c = s3.complete_multipart_upload(Bucket=B, Key="comp", UploadId=up,
                                     MultipartUpload={"Parts": parts})
    want = b64(crc32(crc32(P1) + crc32(P2))) + "-2"
    assert c["ChecksumCRC32"] == want and c["ChecksumType"] == "COMPOSITE", c
    h = s3.head_object(Bucket=B, Key="comp", ChecksumMode="ENABLED")
    assert h["ChecksumCRC32"] == want and h["ChecksumType"] == "COMPOSITE", h
    assert "ChecksumCRC32" not in s3.head_object(Bucket=B, Key="comp")
    g = s3.get_object(Bucket=B, Key="comp", ChecksumMode="ENABLED")
    assert g["Body"].read() == P1 + P2 and g["ChecksumCRC32"] == want
    a = s3.get_object_attributes(Bucket=B, Key="comp", ObjectAttributes=["Checksum",
                                                                         "ObjectParts"])
    assert a["Checksum"] == {"ChecksumCRC32": want, "ChecksumType": "COMPOSITE"}, a
    assert [p["ChecksumCRC32"] for p in a["ObjectParts"]["Parts"]] == \
        [b64(crc32(P1)), b64(crc32(P2))], a
    a = s3.get_object_attributes(Bucket=B, Key="comp", ObjectAttributes=["ObjectParts"])
    assert a["ObjectParts"]["Parts"][1]["ChecksumCRC32"] == b64(crc32(P2)), a
    # A part by number: its own checksum (botocore checks the body against it).
    g = s3.get_object(Bucket=B, Key="comp", PartNumber=2, ChecksumMode="ENABLED")
    assert g["Body"].read() == P2 and g["ChecksumCRC32"] == b64(crc32(P2)), g
    h = s3.head_object(Bucket=B, Key="comp", PartNumber=1, ChecksumMode="ENABLED")
    assert h["ChecksumCRC32"] == b64(crc32(P1)) and h["PartsCount"] == 2, h


def full_object_crc32(s3):
    # The client sends no part checksum: the server computes them.
    up, parts, r = upload(s3, "full", "CRC32", "FULL_OBJECT", send_part_cksum=False)
    assert r["ChecksumType"] == "FULL_OBJECT", r
    full = b64(crc32(P1 + P2))
    expect_error("BadDigest", s3.complete_multipart_upload, Bucket=B, Key="full", UploadId=up,
                 MultipartUpload={"Parts": parts}, ChecksumCRC32=b64(crc32(b"other")),
                 ChecksumType="FULL_OBJECT")
    c = s3.complete_multipart_upload(Bucket=B, Key="full", UploadId=up,
                                     MultipartUpload={"Parts": parts}, ChecksumCRC32=full,
                                     ChecksumType="FULL_OBJECT")
    assert c["ChecksumCRC32"] == full and c["ChecksumType"] == "FULL_OBJECT", c
    h = s3.head_object(Bucket=B, Key="full", ChecksumMode="ENABLED")
    assert h["ChecksumCRC32"] == full and h["ChecksumType"] == "FULL_OBJECT", h


def composite_sha256(s3):
    up, parts, _ = upload(s3, "sha", "SHA256")
    c = s3.complete_multipart_upload(Bucket=B, Key="sha", UploadId=up,
                                     MultipartUpload={"Parts": parts})
    d1, d2 = hashlib.sha256(P1).digest(), hashlib.sha256(P2).digest()
    assert c["ChecksumSHA256"] == b64(hashlib.sha256(d1 + d2).digest()) + "-2", c


def refusals(s3):
    expect_error("InvalidRequest", s3.create_multipart_upload, Bucket=B, Key="x",
                 ChecksumAlgorithm="SHA1", ChecksumType="FULL_OBJECT")
    expect_error("InvalidRequest", s3.create_multipart_upload, Bucket=B, Key="x",
                 ChecksumAlgorithm="CRC64NVME", ChecksumType="COMPOSITE")
    r = s3.create_multipart_upload(Bucket=B, Key="x", ChecksumAlgorithm="CRC32")
    expect_error("InvalidRequest", s3.upload_part, Bucket=B, Key="x", UploadId=r["UploadId"],
                 PartNumber=1, Body=b"y", ChecksumAlgorithm="SHA256")
    s3.abort_multipart_upload(Bucket=B, Key="x", UploadId=r["UploadId"])
    # Without an algorithm nothing changes: no checksum kept for the object.
    up = s3.create_multipart_upload(Bucket=B, Key="plain")["UploadId"]
    e = s3.upload_part(Bucket=B, Key="plain", UploadId=up, PartNumber=1, Body=b"p")["ETag"]
    c = s3.complete_multipart_upload(Bucket=B, Key="plain", UploadId=up,
                                     MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e}]})
    assert not any(k.startswith("Checksum") for k in c), c


def main():
    cmd = sys.argv[1:]
    if not cmd:
        raise SystemExit("usage: mpu_checksum_test.py SERVE-COMMAND...")
    p, ep = start(cmd)
    try:
        s3 = client(ep)
        s3.create_bucket(Bucket=B)
        composite_crc32(s3)
        full_object_crc32(s3)
        composite_sha256(s3)
        refusals(s3)
    except ClientError as e:
        raise SystemExit(f"FAIL: {e}")
    finally:
        p.terminate()
        p.wait(timeout=10)
    print("PASS: multipart checksums (boto3)")


if __name__ == "__main__":
    main()
