/** Server data through TanStack Query: one hook per read, mutations invalidate what they change. */
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';

import type { Photo } from '../api/types';
import { useApi, useSession } from './SessionProvider';

export const PAGE_SIZE = 200;
/** While renditions are still being made, look again this often. */
const THUMBNAIL_POLL_MS = 2000;

const keys = {
  me: (account: string) => ['me', account] as const,
  photos: (account: string, albumId: string | null) => ['photos', account, albumId] as const,
  photo: (account: string, id: string) => ['photo', account, id] as const,
  albums: (account: string) => ['albums', account] as const,
  album: (account: string, id: string) => ['album', account, id] as const,
};

function useAccount(): string {
  const { session } = useSession();
  return `${session?.server}|${session?.email}`;
}

export function useMe() {
  const api = useApi();
  return useQuery({ queryKey: keys.me(useAccount()), queryFn: () => api.me() });
}

export function usePhotos(albumId: string | null = null) {
  const api = useApi();
  return useInfiniteQuery({
    queryKey: keys.photos(useAccount(), albumId),
    queryFn: ({ pageParam }) => api.photos({ limit: PAGE_SIZE, cursor: pageParam, albumId }),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_cursor,
    refetchInterval: (query) =>
      query.state.data?.pages.some((page) => page.items.some(waitingForThumbnail)) ? THUMBNAIL_POLL_MS : false,
  });
}

function waitingForThumbnail(photo: Photo): boolean {
  return photo.thumbnail_url === null && photo.content_type.startsWith('image/');
}

export function usePhoto(id: string) {
  const api = useApi();
  return useQuery({ queryKey: keys.photo(useAccount(), id), queryFn: () => api.photo(id) });
}

export function useAlbums() {
  const api = useApi();
  return useQuery({ queryKey: keys.albums(useAccount()), queryFn: () => api.albums() });
}

export function useAlbum(id: string) {
  const api = useApi();
  return useQuery({ queryKey: keys.album(useAccount(), id), queryFn: () => api.album(id) });
}

export function useCreateAlbum() {
  const api = useApi();
  const client = useQueryClient();
  return useMutation({
    mutationFn: (name: string) => api.createAlbum(name),
    onSuccess: () => client.invalidateQueries({ queryKey: ['albums'] }),
  });
}

export function useAddToAlbum() {
  const api = useApi();
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ albumId, photoIds }: { albumId: string; photoIds: string[] }) => api.addToAlbum(albumId, photoIds),
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: ['albums'] });
      void client.invalidateQueries({ queryKey: ['album'] });
      void client.invalidateQueries({ queryKey: ['photos'] });
    },
  });
}

export function useMoveToTrash() {
  const api = useApi();
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api.deletePhoto(id),
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: ['photos'] });
      void client.invalidateQueries({ queryKey: ['me'] });
      void client.invalidateQueries({ queryKey: ['albums'] });
    },
  });
}

/** After a backup or free-up, what the server holds changed. */
export function useRefreshLibrary() {
  const client = useQueryClient();
  return () => {
    void client.invalidateQueries({ queryKey: ['photos'] });
    void client.invalidateQueries({ queryKey: ['me'] });
  };
}
