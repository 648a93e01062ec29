/**
 * Free up space (F1.8), the seed's steps: list what the server confirms as backed up, show the
 * count and bytes, let the user review and deselect, ask permission, re-confirm with the server
 * immediately before deleting, then delete only those local copies (the OS asks once more).
 */
import { useState } from 'react';
import { Pressable, ScrollView, Switch, Text, TextInput, View } from 'react-native';

import { formatBytes } from '../api/errors';
import { Button, ErrorMessage, Notice, Section, colors, styles } from '../components/ui';
import { type FreeUpCandidate, planFreeUp } from '../freeup/plan';
import { deleteConfirmedCopies } from '../freeup/run';
import { hashCache } from '../lib/database';
import { media } from '../media';
import type { DeviceAsset } from '../media/types';
import { useAsyncAction } from '../lib/useAsyncAction';
import { useRefreshLibrary } from '../state/queries';
import { useApi } from '../state/SessionProvider';

type Step = 'options' | 'review' | 'confirm' | 'done';

async function allAssets(): Promise<DeviceAsset[]> {
  const assets: DeviceAsset[] = [];
  let after: string | null = null;
  for (;;) {
    const page = await media.assets({ albumIds: [], after, first: 500 });
    assets.push(...page.assets);
    if (!page.hasNextPage || !page.endCursor) return assets;
    after = page.endCursor;
  }
}

export function FreeUpScreen() {
  const api = useApi();
  const refresh = useRefreshLibrary();
  const [step, setStep] = useState<Step>('options');
  const [olderThan, setOlderThan] = useState('');
  const [keepFavorites, setKeepFavorites] = useState(true);
  const [candidates, setCandidates] = useState<FreeUpCandidate[]>([]);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [result, setResult] = useState<string | null>(null);
  const { busy, error, run: guarded } = useAsyncAction();

  const findCandidates = () =>
    guarded(async () => {
      if (!(await media.requestPermission())) throw new Error('Allow PhotoSync to read your photos in Settings.');
      let assets = await allAssets();
      const hashes = await hashCache.getMany(assets.map((a) => a.id));
      if (keepFavorites) {
        const favourites = await media.favorites(assets.filter((a) => hashes.has(a.id)).map((a) => a.id));
        assets = assets.map((a) => (favourites.has(a.id) ? { ...a, isFavorite: true } : a));
      }
      const server = await api.lookup([...new Set([...hashes.values()].map((h) => h.sha256))]);
      const days = olderThan.trim() ? Number(olderThan) : null;
      if (days !== null && (!Number.isFinite(days) || days < 0)) throw new Error('"Older than" must be a number of days.');
      const plan = planFreeUp(assets, hashes, server, { olderThanDays: days, keepFavorites, now: Date.now() });
      setCandidates(plan.candidates);
      setSelected(new Set(plan.candidates.map((c) => c.asset.id)));
      setStep('review');
    });

  const chosen = candidates.filter((c) => selected.has(c.asset.id));
  const chosenBytes = chosen.reduce((n, c) => n + c.size, 0);

  const deleteChosen = () =>
    guarded(async () => {
      const outcome = await deleteConfirmedCopies(chosen, api, media);
      const kept = outcome.dropped.length ? ` ${outcome.dropped.length} kept: no longer confirmed by the server.` : '';
      if (!outcome.toDelete.length) {
        setResult(`Nothing was deleted: none of the ${outcome.dropped.length} chosen photos is still confirmed by the server.`);
      } else if (!outcome.deleted) {
        setResult('Nothing was deleted: the deletion was declined.');
      } else {
        const n = outcome.toDelete.length;
        setResult(`Freed ${formatBytes(outcome.totalBytes)}: ${n} local ${n === 1 ? 'copy' : 'copies'} deleted.${kept}`);
      }
      setStep('done');
      refresh();
    });

  return (
    <ScrollView style={styles.screen} contentContainerStyle={styles.scroll} testID="freeup-screen">
      <Text style={styles.muted}>
        Deletes from this device only the photos PhotoSync has safely backed up. They stay in your library on the server.
      </Text>
      {step === 'options' || step === 'done' ? (
        <Section title="Options">
          <View style={styles.row}>
            <Text style={styles.text}>Only photos older than</Text>
            <TextInput
              style={[styles.input, { width: 80 }]}
              value={olderThan}
              onChangeText={setOlderThan}
              placeholder="any"
              keyboardType="number-pad"
              accessibilityLabel="Older than days"
              testID="freeup-older-than"
            />
            <Text style={styles.text}>days</Text>
          </View>
          <View style={styles.row}>
            <Switch value={keepFavorites} onValueChange={setKeepFavorites} accessibilityLabel="Keep favourites" />
            <Text style={styles.text}>Keep favourites</Text>
          </View>
          <Button title="Find photos to free up" disabled={busy} onPress={findCandidates} testID="freeup-find" />
        </Section>
      ) : null}
      {step === 'review' ? (
        <Section title="Review">
          <Text style={styles.text} testID="freeup-summary">
            {chosen.length} of {candidates.length} backed-up photos selected · frees {formatBytes(chosenBytes)}
          </Text>
          {candidates.length === 0 ? <Notice>Nothing to free up: back up first, or nothing matches the options.</Notice> : null}
          {candidates.map((candidate) => (
            <Pressable
              key={candidate.asset.id}
              accessibilityRole="checkbox"
              accessibilityState={{ checked: selected.has(candidate.asset.id) }}
              onPress={() => {
                const next = new Set(selected);
                if (next.has(candidate.asset.id)) next.delete(candidate.asset.id);
                else next.add(candidate.asset.id);
                setSelected(next);
              }}
              style={[styles.row, { paddingVertical: 6 }]}
              testID={`freeup-item-${candidate.asset.filename}`}
            >
              <Text style={{ color: colors.accent, width: 24 }}>{selected.has(candidate.asset.id) ? '☑' : '☐'}</Text>
              <Text style={styles.text}>
                {candidate.asset.filename} · {formatBytes(candidate.size)}
              </Text>
            </Pressable>
          ))}
          <View style={styles.row}>
            <Button
              title={`Free up ${formatBytes(chosenBytes)}`}
              kind="danger"
              disabled={!chosen.length}
              onPress={() => setStep('confirm')}
              testID="freeup-next"
            />
            <Button title="Back" kind="secondary" onPress={() => setStep('options')} />
          </View>
        </Section>
      ) : null}
      {step === 'confirm' ? (
        <Section title="Delete from this device?">
          <Text style={styles.text}>
            {chosen.length} photos ({formatBytes(chosenBytes)}) will be deleted from this device after the server confirms once more
            that it holds each of them. Your phone may ask you to confirm again.
          </Text>
          <View style={styles.row}>
            <Button title="Delete local copies" kind="danger" disabled={busy} onPress={deleteChosen} testID="freeup-confirm" />
            <Button title="Cancel" kind="secondary" onPress={() => setStep('review')} />
          </View>
        </Section>
      ) : null}
      {step === 'done' && result ? <Notice testID="freeup-result">{result}</Notice> : null}
      <ErrorMessage error={error} />
    </ScrollView>
  );
}
