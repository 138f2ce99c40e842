#!/usr/bin/env python3
"""docs/http.md names every operation, query parameter and header the HTTP
front (fake_s3/http*.c) serves, and the sub-resources it does not.

The query parameters and headers are taken from the source: every name the
front reads with hr_has_q / hr_q / hr_q_int, hr_hdr or hr_since, every header
it writes with hr_header, and every "x-amz-..." literal.  Each must appear in
the page in backquotes (`name`, case-insensitive for headers).  A query
parameter that names a sub-resource maps to the operations it routes (SUBRES
below), each of which must appear in the page by name; a parameter this
script does not know fails the check, so that a new route cannot go
undocumented.  The sub-resources of S3 the front does not serve (NOT_SERVED)
must not be read by the source and must be named in the page.

Usage: http_doc_audit.py [SOURCE-DIR]   (exit 0 when the page is complete, 1
with the missing names listed)
"""
import glob
import os
import re
import sys

# Each sub-resource (a query parameter that selects the operation) -> the
# operations it routes.  "" is a request without one.
SUBRES = {
    "": ["ListBuckets", "CreateBucket", "DeleteBucket", "HeadBucket", "ListObjects",
         "GetObject", "HeadObject", "PutObject", "CopyObject", "DeleteObject"],
    "acl": ["GetBucketAcl", "PutBucketAcl", "GetObjectAcl", "PutObjectAcl"],
    "attributes": ["GetObjectAttributes"],
    "cors": ["PutBucketCors", "GetBucketCors", "DeleteBucketCors"],
    "delete": ["DeleteObjects"],
    "legal-hold": ["PutObjectLegalHold", "GetObjectLegalHold"],
    "lifecycle": ["PutBucketLifecycleConfiguration", "GetBucketLifecycleConfiguration",
                  "DeleteBucketLifecycle"],
    "list-type": ["ListObjectsV2"],
    "location": ["GetBucketLocation"],
    "object-lock": ["PutObjectLockConfiguration", "GetObjectLockConfiguration"],
    "partNumber": ["UploadPart", "UploadPartCopy"],
    "retention": ["PutObjectRetention", "GetObjectRetention"],
    "tagging": ["PutObjectTagging", "GetObjectTagging", "DeleteObjectTagging",
                "PutBucketTagging", "GetBucketTagging", "DeleteBucketTagging"],
    "uploadId": ["CompleteMultipartUpload", "AbortMultipartUpload", "ListParts"],
    "uploads": ["CreateMultipartUpload", "ListMultipartUploads"],
    "versioning": ["PutBucketVersioning", "GetBucketVersioning"],
    "versions": ["ListObjectVersions"],
}
# Query parameters that are not sub-resources: listing, paging, versions,
# presigned URLs (SigV4 and SigV2).
PARAMS = {"continuation-token", "delimiter", "encoding-type", "fetch-owner", "key-marker",
          "marker", "max-keys", "max-parts", "max-uploads", "part-number-marker", "prefix",
          "start-after", "upload-id-marker", "version-id-marker", "versionId",
          "X-Amz-Algorithm", "AWSAccessKeyId", "Expires", "Signature"}
# S3 sub-resources the front answers 501 NotImplemented.
NOT_SERVED = ["policy", "policyStatus", "publicAccessBlock", "ownershipControls",
              "notification", "website", "logging", "replication", "encryption",
              "accelerate", "requestPayment", "analytics", "inventory", "metrics",
              "intelligent-tiering", "torrent", "restore", "select"]


def source_names(src):
    text = ""
    for f in sorted(glob.glob(os.path.join(src, "fake_s3", "http*.c"))):
        with open(f, encoding="utf-8") as fh:
            text += fh.read()
    params = set(re.findall(r'hr_(?:has_q|q|q_int)\(\s*r,\s*"([^"]+)"', text))
    headers = set(re.findall(r'hr_(?:hdr|header|since)\(\s*[\w>.-]+,\s*"([^"]+)"', text))
    headers |= {h for h in re.findall(r'"((?:x|X)-(?:amz|Amz)-[A-Za-z0-9-]+)', text)
                if not h.endswith("-")}
    # Presigned SigV4's X-Amz-* are query parameters, not headers.
    presigned = {h for h in headers if h.startswith("X-Amz-")}
    return params, headers - presigned, presigned


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
    with open(os.path.join(src, "docs", "http.md"), encoding="utf-8") as fh:
        doc = fh.read()
    quoted = {m.lower() for m in re.findall(r"`([^`\s]+)`", doc)}
    words = set(re.findall(r"[A-Za-z0-9]+", doc))
    params, headers, presigned = source_names(src)
    missing = []
    for p in sorted(params):
        if p not in SUBRES and p not in PARAMS:
            missing.append(f"?{p}: read by fake_s3/http*.c but unknown to {sys.argv[0]} "
                           "(add it to SUBRES or PARAMS, and to docs/http.md)")
        elif p.lower() not in quoted:
            missing.append(f"query parameter `{p}`")
    for names in SUBRES.values():
        missing += [f"operation {op}" for op in names if op not in words]
    for h in sorted(headers | presigned, key=str.lower):
        if h.lower() not in quoted:
            missing.append(f"header `{h}`")
    for s in NOT_SERVED:
        if s in params:
            missing.append(f"?{s} is read by the source but listed as not served here")
        elif s.lower() not in quoted:
            missing.append(f"not served: `{s}`")
    if missing:
        print("docs/http.md lacks:\n  " + "\n  ".join(missing))
        return 1
    print(f"docs/http.md names the {len(params)} query parameters, "
          f"{sum(len(v) for v in SUBRES.values())} operations and "
          f"{len(headers | presigned)} headers of fake_s3/http*.c, "
          f"and {len(NOT_SERVED)} sub-resources not served")
    return 0


if __name__ == "__main__":
    sys.exit(main())
