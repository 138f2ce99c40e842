// The AWS SDK for JavaScript v3 (@aws-sdk/client-s3) against `s3sim serve`:
// objects, a multipart upload with ListParts paged by MaxParts and
// PartNumberMarker, GET ?partNumber, listings, deletes.
//
// Usage: node sdkv3_test.cjs ENDPOINT ACCESS_KEY SECRET_KEY  (sdkv3.sh starts the server)
"use strict";
const assert = require("assert");
const s3sdk = require("@aws-sdk/client-s3");

const [endpoint, accessKeyId, secretAccessKey] = process.argv.slice(2);
const s3 = new s3sdk.S3Client({
  endpoint, region: "us-east-1", forcePathStyle: true, maxAttempts: 1,
  credentials: { accessKeyId, secretAccessKey },
});
const send = (name, input) => {
  if (process.env.S3SIM_TRACE) console.log("->", name);
  return s3.send(new s3sdk[name + "Command"](input));
};
const MiB = 1024 * 1024;

async function text(body) {
  return Buffer.from(await body.transformToByteArray());
}

async function expectError(name, fn) {
  try {
    await fn();
  } catch (e) {
    assert.strictEqual(e.name, name, `want ${name}, got ${e.name}: ${e.message}`);
    return;
  }
  assert.fail(`want ${name}, the call succeeded`);
}

async function main() {
  const Bucket = "sdkv3";
  await send("CreateBucket", { Bucket });
  await send("PutObject", { Bucket, Key: "small", Body: "hello sdk v3", ContentType: "text/plain",
                            Metadata: { who: "sdkv3" } });
  const g = await send("GetObject", { Bucket, Key: "small" });
  assert.strictEqual((await text(g.Body)).toString(), "hello sdk v3");
  assert.strictEqual(g.ContentType, "text/plain");
  assert.deepStrictEqual(g.Metadata, { who: "sdkv3" });
  assert.ok(g.$metadata.requestId && g.$metadata.extendedRequestId, JSON.stringify(g.$metadata));

  const Key = "big";
  const sizes = [5 * MiB, 5 * MiB, 1234];
  const parts = sizes.map((n, i) => Buffer.alloc(n, 97 + i));
  const { UploadId } = await send("CreateMultipartUpload", { Bucket, Key });
  const etags = [];
  for (let i = 0; i < parts.length; i++) {
    const r = await send("UploadPart", { Bucket, Key, UploadId, PartNumber: i + 1, Body: parts[i] });
    etags.push(r.ETag);
  }
  // ListParts, one page, then paged two by two.
  let lp = await send("ListParts", { Bucket, Key, UploadId });
  assert.deepStrictEqual(lp.Parts.map((p) => [p.PartNumber, p.Size, p.ETag]),
                         sizes.map((n, i) => [i + 1, n, etags[i]]));
  assert.strictEqual(lp.IsTruncated, false);
  const seen = [];
  let marker;
  for (let page = 0; page < 5; page++) {
    lp = await send("ListParts", { Bucket, Key, UploadId, MaxParts: 2, PartNumberMarker: marker });
    seen.push(...lp.Parts.map((p) => p.PartNumber));
    if (!lp.IsTruncated) break;
    marker = lp.NextPartNumberMarker;
  }
  assert.deepStrictEqual(seen, [1, 2, 3]);
  const paged = [];
  for await (const pg of s3sdk.paginateListParts({ client: s3, pageSize: 1 }, { Bucket, Key, UploadId }))
    paged.push(...(pg.Parts || []).map((p) => p.PartNumber)); // the last page may be empty
  assert.deepStrictEqual(paged, [1, 2, 3]);
  const done = await send("CompleteMultipartUpload", {
    Bucket, Key, UploadId,
    MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
  });
  assert.ok(done.ETag.endsWith('-3"'), done.ETag);
  await expectError("NoSuchUpload", () => send("ListParts", { Bucket, Key, UploadId }));
  const p2 = await send("GetObject", { Bucket, Key, PartNumber: 2 });
  assert.strictEqual(p2.PartsCount, 3);
  assert.ok((await text(p2.Body)).equals(parts[1]));
  const h = await send("HeadObject", { Bucket, Key });
  assert.strictEqual(h.ContentLength, sizes.reduce((a, b) => a + b));

  const l = await send("ListObjectsV2", { Bucket });
  assert.deepStrictEqual(l.Contents.map((o) => o.Key), ["big", "small"]);
  assert.ok(Math.abs(l.Contents[0].LastModified - Date.now()) < 60000, l.Contents[0].LastModified);
  await send("DeleteObjects", { Bucket, Delete: { Objects: [{ Key: "big" }, { Key: "small" }] } });
  await expectError("NoSuchKey", () => send("GetObject", { Bucket, Key: "small" }));
  await send("DeleteBucket", { Bucket });
  console.log("PASS: AWS SDK v3 against s3sim serve");
}

main().catch((e) => {
  console.error("FAIL:", e);
  process.exit(1);
});
