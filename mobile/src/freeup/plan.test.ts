import { DAY, asset, hashMap, hashed, sha } from '../testing/fixtures';
import { planFreeUp, reconfirm } from './plan';

const NOW = Date.UTC(2024, 5, 2);
const ANY_AGE = { olderThanDays: null, keepFavorites: false, now: NOW };

describe('planFreeUp', () => {
  const confirmed = asset(1);
  const trashed = asset(2);
  const deleted = asset(3);
  const unknown = asset(4);
  const notHashed = asset(5);
  const assets = [confirmed, trashed, deleted, unknown, notHashed];
  const hashes = hashMap([
    hashed(confirmed, 'confirmed', 1000),
    hashed(trashed, 'trashed', 2000),
    hashed(deleted, 'deleted', 3000),
    hashed(unknown, 'unknown', 4000),
  ]);
  const server = {
    found: { [sha('confirmed')]: 'photo-1' },
    trashed: { [sha('trashed')]: 'photo-2' },
    deleted: [sha('deleted')],
  };

  it('offers exactly the assets the server confirms in `found`, with the bytes they free', () => {
    const plan = planFreeUp(assets, hashes, server, ANY_AGE);
    expect(plan.candidates.map((c) => [c.asset.id, c.photoId])).toEqual([[confirmed.id, 'photo-1']]);
    expect(plan.totalBytes).toBe(1000);
  });

  it('never offers an asset changed since it was hashed', () => {
    const edited = { ...confirmed, modificationTime: confirmed.modificationTime + 5 };
    expect(planFreeUp([edited], hashes, server, ANY_AGE).candidates).toEqual([]);
  });

  it('keeps favourites and recent assets when asked', () => {
    const old = asset(40);
    const oldFavourite = asset(41, { isFavorite: true });
    const recent = asset(0);
    const h = hashMap([hashed(old, 'old'), hashed(oldFavourite, 'fav'), hashed(recent, 'recent')]);
    const found = { found: { [sha('old')]: 'p1', [sha('fav')]: 'p2', [sha('recent')]: 'p3' } };

    const plan = planFreeUp([old, oldFavourite, recent], h, found, { olderThanDays: 30, keepFavorites: true, now: NOW });
    expect(plan.candidates.map((c) => c.asset.id)).toEqual([old.id]);

    const all = planFreeUp([old, oldFavourite, recent], h, found, ANY_AGE);
    expect(all.candidates).toHaveLength(3);
    expect(recent.creationTime).toBeGreaterThan(NOW - 30 * DAY);
  });
});

describe('reconfirm', () => {
  it('drops a photo trashed or deleted on the server between listing and deleting', () => {
    const [one, two, three] = [asset(1), asset(2), asset(3)];
    const hashes = hashMap([hashed(one, 'one', 10), hashed(two, 'two', 20), hashed(three, 'three', 30)]);
    const listed = planFreeUp([one, two, three], hashes, {
      found: { [sha('one')]: 'p1', [sha('two')]: 'p2', [sha('three')]: 'p3' },
    }, ANY_AGE);
    expect(listed.candidates).toHaveLength(3);

    // Meanwhile, on the web: `two` went to the trash and `three` was deleted for good.
    const now = { found: { [sha('one')]: 'p1' }, trashed: { [sha('two')]: 'p2' }, deleted: [sha('three')] };
    const result = reconfirm(listed.candidates, now);

    expect(result.toDelete.map((c) => c.asset.id)).toEqual([one.id]);
    expect(result.dropped.map((c) => c.asset.id)).toEqual([two.id, three.id]);
    expect(result.totalBytes).toBe(10);
  });

  it('keeps only what the user left selected', () => {
    const [one, two] = [asset(1), asset(2)];
    const hashes = hashMap([hashed(one, 'one'), hashed(two, 'two')]);
    const server = { found: { [sha('one')]: 'p1', [sha('two')]: 'p2' } };
    const listed = planFreeUp([one, two], hashes, server, ANY_AGE);
    const deselected = listed.candidates.filter((c) => c.asset.id !== two.id);
    expect(reconfirm(deselected, server).toDelete.map((c) => c.asset.id)).toEqual([one.id]);
  });
});
