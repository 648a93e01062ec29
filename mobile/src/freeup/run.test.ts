/** The delete step over the native media module (expo-media-library mocked over a camera roll). */
import { media } from '../media';
import { cameraRoll, library } from '../testing/deviceLibrary';
import { sha256Hex } from '../testing/fakeServer';
import { planFreeUp } from './plan';
import { deleteConfirmedCopies } from './run';

jest.mock('expo-media-library/legacy', () => require('../testing/mocks/mediaLibrary'));
jest.mock('expo-file-system', () => require('../testing/mocks/fileSystem'));

function hashesOf(assets: typeof library.assets) {
  return new Map(
    assets.map((a) => [a.id, { assetId: a.id, modificationTime: a.modificationTime, sha256: sha256Hex(a.bytes), size: a.bytes.byteLength }]),
  );
}

test('deletes exactly the copies the server still confirms, through MediaLibrary.deleteAssetsAsync', async () => {
  library.reset(cameraRoll(12));
  const page = await media.assets({ albumIds: [], after: null, first: 50 });
  const hashes = hashesOf(library.assets);
  const shas = library.assets.map((a) => sha256Hex(a.bytes)); // before the delete shortens the roll
  const sha = (i: number) => shas[i];
  const listedFound = Object.fromEntries([0, 1, 2, 3, 4].map((i) => [sha(i), `photo-${i}`]));
  const listed = planFreeUp(page.assets, hashes, { found: listedFound }, { olderThanDays: null, keepFavorites: false, now: Date.now() });
  expect(listed.candidates.map((c) => c.asset.id)).toEqual([0, 1, 2, 3, 4].map((i) => library.assets[i].id));

  // The user deselects #4; meanwhile #1 was trashed and #2 deleted for good on another device.
  const selected = listed.candidates.filter((c) => c.asset.id !== library.assets[4].id);
  const lookup = jest.fn().mockResolvedValue({
    found: { [sha(0)]: 'photo-0', [sha(3)]: 'photo-3', [sha(4)]: 'photo-4' },
    trashed: { [sha(1)]: 'photo-1' },
    deleted: [sha(2)],
  });
  const ids = [0, 1, 2, 3, 4].map((i) => library.assets[i].id);

  const outcome = await deleteConfirmedCopies(selected, { lookup }, media);

  expect(lookup).toHaveBeenCalledWith([sha(0), sha(1), sha(2), sha(3)]);
  expect(outcome.deleted).toBe(true);
  expect(library.deleted).toEqual([ids[0], ids[3]]);
  expect(outcome.dropped.map((c) => c.asset.id)).toEqual([ids[1], ids[2]]);
  expect(library.assets.map((a) => a.id)).toEqual(expect.arrayContaining([ids[1], ids[2], ids[4]]));
});

test('deletes nothing when nothing is confirmed any more', async () => {
  library.reset(cameraRoll(2));
  const hashes = hashesOf(library.assets);
  const page = await media.assets({ albumIds: [], after: null, first: 50 });
  const found = Object.fromEntries(library.assets.map((a, i) => [sha256Hex(a.bytes), `p${i}`]));
  const listed = planFreeUp(page.assets, hashes, { found }, { olderThanDays: null, keepFavorites: false, now: Date.now() });

  const outcome = await deleteConfirmedCopies(listed.candidates, { lookup: async () => ({ found: {}, trashed: {}, deleted: [] }) }, media);

  expect(outcome.deleted).toBe(false);
  expect(library.deleted).toEqual([]);
});
