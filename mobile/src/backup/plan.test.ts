import { asset, hashMap, hashed, sha } from '../testing/fixtures';
import { EMPTY_PROGRESS, planHashing, planUploads } from './plan';

describe('planHashing', () => {
  it('hashes only assets that are new or modified since their cached hash', () => {
    const unchanged = asset(1);
    const modified = asset(2);
    const fresh = asset(3);
    const cache = hashMap([hashed(unchanged, 'a'), { ...hashed(modified, 'b'), modificationTime: 1 }]);

    const plan = planHashing([unchanged, modified, fresh], cache);

    expect([...plan.known.keys()]).toEqual([unchanged.id]);
    expect(plan.toHash.map((a) => a.id)).toEqual([modified.id, fresh.id]);
  });

  it('never reads a file the server would refuse', () => {
    const plan = planHashing([asset(1, { filename: 'notes.txt', contentType: null })], new Map());
    expect(plan.toHash).toEqual([]);
  });
});

describe('planUploads', () => {
  const a = asset(1);
  const b = asset(2);
  const c = asset(3);
  const d = asset(4);

  it('skips what the server has, and by default what is in its trash or deleted for good', () => {
    const hashes = hashMap([hashed(a, 'a'), hashed(b, 'b'), hashed(c, 'c'), hashed(d, 'd', 123)]);
    const server = { found: { [sha('a')]: 'p-a' }, trashed: { [sha('b')]: 'p-b' }, deleted: [sha('c')] };

    const plan = planUploads([a, b, c, d], hashes, server);

    expect(plan.uploads.map((u) => u.asset.id)).toEqual([d.id]);
    expect(plan.totalBytes).toBe(123);
    expect(plan.skipped.map((s) => [s.assetId, s.reason])).toEqual([
      [a.id, 'on_server'],
      [b.id, 'in_trash'],
      [c.id, 'deleted'],
    ]);
  });

  it('uploads trashed or deleted content again only when asked', () => {
    const hashes = hashMap([hashed(b, 'b'), hashed(c, 'c')]);
    const server = { found: {}, trashed: { [sha('b')]: 'p-b' }, deleted: [sha('c')] };
    const plan = planUploads([b, c], hashes, server, EMPTY_PROGRESS, { includeTrashedAndDeleted: true });
    expect(plan.uploads.map((u) => u.asset.id)).toEqual([b.id, c.id]);
  });

  it('reads a lookup answer without the 1.1 keys as having none', () => {
    const plan = planUploads([a], hashMap([hashed(a, 'a')]), { found: {} });
    expect(plan.uploads).toHaveLength(1);
  });

  it('uploads content once when two assets hold the same bytes', () => {
    const copy = asset(9, { filename: 'IMG_1001 copy.HEIC' });
    const plan = planUploads([a, copy, b], hashMap([hashed(a, 'same'), hashed(copy, 'same'), hashed(b, 'b')]), {
      found: {},
    });
    expect(plan.uploads.map((u) => u.sha256)).toEqual([sha('same'), sha('b')]);
    expect(plan.skipped).toEqual([{ assetId: copy.id, sha256: sha('same'), reason: 'same_content' }]);
  });

  it('resumes after an interruption without planning anything twice', () => {
    const assets = [a, b, c];
    const hashes = hashMap([hashed(a, 'a'), hashed(b, 'b'), hashed(c, 'c')]);
    const first = planUploads(assets, hashes, { found: {} });
    expect(first.uploads).toHaveLength(3);

    // The run stopped after `a` completed; the server has not listed it in lookup yet (finalize
    // is asynchronous), so only the saved progress knows.
    const progress = { completed: { [sha('a')]: 'p-a' }, inFlight: {} };
    const second = planUploads(assets, hashes, { found: {} }, progress);

    expect(second.uploads.map((u) => u.asset.id)).toEqual([b.id, c.id]);
    const all = [...first.uploads.slice(0, 1), ...second.uploads].map((u) => u.sha256);
    expect(new Set(all).size).toBe(all.length);
  });

  it('plans nothing for an asset that has no hash yet', () => {
    const plan = planUploads([a, b], hashMap([hashed(a, 'a')]), { found: {} });
    expect(plan.uploads.map((u) => u.asset.id)).toEqual([a.id]);
  });
});
