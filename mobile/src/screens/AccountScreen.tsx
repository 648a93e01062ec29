import { ScrollView, Text, View } from 'react-native';

import { formatBytes } from '../api/errors';
import { Button, ErrorMessage, Loading, ProgressBar, Section, colors, styles } from '../components/ui';
import { useMe } from '../state/queries';
import { useSession } from '../state/SessionProvider';

export function AccountScreen() {
  const { session, signOut } = useSession();
  const me = useMe();
  if (me.isPending) return <Loading />;
  // A server from before api.md 1.1 sends no storage_trash: it has no trash.
  const account = me.data ? { ...me.data, storage_trash: me.data.storage_trash ?? 0 } : undefined;
  return (
    <ScrollView style={styles.screen} contentContainerStyle={styles.scroll} testID="account-screen">
      <ErrorMessage error={me.error} />
      {account ? (
        <Section title="Storage">
          <ProgressBar
            testID="quota-bar"
            parts={[
              { fraction: (account.storage_used - account.storage_trash) / account.storage_quota, color: colors.accent },
              { fraction: account.storage_trash / account.storage_quota, color: '#f9ab00' },
              { fraction: account.storage_pending / account.storage_quota, color: '#a8c7fa' },
            ]}
          />
          <Text style={styles.text} testID="quota-text">
            {formatBytes(account.storage_used)} of {formatBytes(account.storage_quota)} used
          </Text>
          <View style={{ gap: 2 }}>
            <Text style={styles.muted}>Photos: {formatBytes(account.storage_used - account.storage_trash)}</Text>
            <Text style={styles.muted}>In the trash: {formatBytes(account.storage_trash)}</Text>
            <Text style={styles.muted}>Uploads in progress: {formatBytes(account.storage_pending)}</Text>
          </View>
        </Section>
      ) : null}
      <Section title="Signed in">
        <Text style={styles.text} testID="account-email">
          {account?.email ?? session?.email}
        </Text>
        <Text style={styles.muted} testID="account-server">
          {session?.server}
        </Text>
      </Section>
      <Button title="Sign out" kind="secondary" onPress={() => void signOut()} testID="sign-out" />
    </ScrollView>
  );
}
