/**
 * The last step of free up space: re-confirm the user's selection with the server at this moment and
 * delete only the local copies still confirmed. Kept out of the screen so it is tested on its own.
 */
import type { ApiClient } from '../api/client';
import type { MediaSource } from '../media/types';
import { type FreeUpCandidate, type Reconfirmed, reconfirm } from './plan';

export interface FreeUpResult extends Reconfirmed {
  /** False when nothing was deleted: nothing still confirmed, or the user declined the OS prompt. */
  deleted: boolean;
}

export async function deleteConfirmedCopies(
  selected: readonly FreeUpCandidate[],
  api: Pick<ApiClient, 'lookup'>,
  media: Pick<MediaSource, 'requestPermission' | 'deleteAssets'>,
): Promise<FreeUpResult> {
  if (!(await media.requestPermission())) throw new Error('Allow PhotoSync to manage your photos in Settings.');
  const now = reconfirm(selected, await api.lookup(selected.map((c) => c.sha256)));
  if (!now.toDelete.length) return { ...now, deleted: false };
  const deleted = await media.deleteAssets(now.toDelete.map((c) => c.asset.id));
  return { ...now, deleted };
}
