// Big files in resumable parts (api.md "Large files: multipart, resumable"). Each part is hashed
// as a stream (hashing.js), given a URL bound to its size and SHA-256, and sent straight from the
// file: the body is a slice of the File, which the browser reads from disk, so a 4 GB video never
// sits in memory. A part whose transfer fails is sent again on a fresh URL; parts the server already
// holds are skipped. Once every part is stored, `complete` names them with the ETags the server
// lists, and finalize checks the whole file as for a single upload.
// An unfinished upload's grant is kept in localStorage by the file's SHA-256: the same file added
// again (after a failure, a reload, a lost connection) goes on with the parts that are missing.

import { sha256Hex } from "./hashing.js";

/** From this size on a file goes in parts (as the CLI does): a dropped connection costs a part. */
export const MULTIPART_THRESHOLD = 64 * 1024 * 1024;
const PARALLEL_PARTS = 3;
const ATTEMPTS_PER_PART = 3;
const UNFINISHED_KEY = "photosync.unfinishedUploads";

export function wantsMultipart(file) {
  return file.size >= MULTIPART_THRESHOLD;
}

/**
 * Send `file` through the multipart `grant` (the 201 answer of POST /uploads) and complete it.
 * `putPart(partUrl, blob, onLoaded)` transfers one part (rejects on failure); `onProgress(bytes)`
 * reports the bytes stored so far; `isCancelled()` stops retries once the user gave up.
 */
export async function sendInParts({ api, grant, file, putPart, onProgress, isCancelled }) {
  const { upload_id: uploadId, part_size: partSize, part_count: partCount } = grant;
  const lengthOf = (number) => Math.min(partSize, file.size - (number - 1) * partSize);
  const sent = new Map();
  const report = () => onProgress([...sent.values()].reduce((sum, bytes) => sum + bytes, 0));

  const held = await storedParts(api, uploadId);
  const missing = [];
  for (let number = 1; number <= partCount; number += 1) {
    if (held.get(number)?.size === lengthOf(number)) sent.set(number, lengthOf(number));
    else missing.push(number);
  }
  report();

  async function sendPart(number) {
    const start = (number - 1) * partSize;
    const blob = file.slice(start, start + lengthOf(number), "");
    const sha256 = await sha256Hex(blob);
    for (let attempt = 1; ; attempt += 1) {
      const { parts: [url] } = await api.partUrls(uploadId, [{ number, sha256 }]);
      try {
        await putPart(url, blob, (loaded) => {
          sent.set(number, loaded);
          report();
        });
        sent.set(number, blob.size);
        report();
        return;
      } catch (error) {
        sent.delete(number);
        report();
        if (attempt >= ATTEMPTS_PER_PART || isCancelled()) throw error;
      }
    }
  }

  let next = 0;
  const worker = async () => {
    while (next < missing.length && !isCancelled()) await sendPart(missing[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_PARTS, missing.length) }, worker));
  if (isCancelled()) throw new Error("The upload was cancelled.");

  const stored = await storedParts(api, uploadId);
  const parts = [];
  for (let number = 1; number <= partCount; number += 1) {
    const part = stored.get(number);
    if (part?.size !== lengthOf(number)) throw new Error(`Part ${number} of the file did not arrive. Please try again.`);
    parts.push({ number, etag: part.etag });
  }
  await api.completeUpload(uploadId, parts);
}

/** The grant of an unfinished multipart upload of this content the server still holds, or null. */
export async function unfinishedGrant(api, sha256) {
  const grant = unfinished()[sha256];
  if (!grant) return null;
  const state = await api.uploadStatus(grant.upload_id).catch(() => null); // another account: 404
  if (state?.status === "pending") return grant;
  forgetUnfinished(sha256);
  return null;
}

export function rememberUnfinished(sha256, grant) {
  const { upload_id, part_size, part_count, method } = grant;
  saveUnfinished({ ...unfinished(), [sha256]: { upload_id, part_size, part_count, method } });
}

export function forgetUnfinished(sha256) {
  const { [sha256]: _, ...rest } = unfinished();
  saveUnfinished(rest);
}

function unfinished() {
  try {
    return JSON.parse(localStorage.getItem(UNFINISHED_KEY) || "{}");
  } catch {
    return {};
  }
}

function saveUnfinished(grants) {
  localStorage.setItem(UNFINISHED_KEY, JSON.stringify(grants));
}

async function storedParts(api, uploadId) {
  const { parts } = await api.storedParts(uploadId);
  return new Map(parts.map((part) => [part.number, part]));
}
