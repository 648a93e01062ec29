import { useState } from 'react';
import { ScrollView, Text, TextInput, View } from 'react-native';

import { Button, ErrorMessage, Notice, Section, styles } from '../components/ui';
import { DEFAULT_CLIENT_ID, useSession } from '../state/SessionProvider';
import { defaultServer } from '../lib/defaultServer';
import { useAsyncAction } from '../lib/useAsyncAction';

export function SignInScreen() {
  const { signInDev, signInBrowser, notice } = useSession();
  const [server, setServer] = useState(defaultServer());
  const [email, setEmail] = useState('');
  const [clientId, setClientId] = useState(DEFAULT_CLIENT_ID);
  const { busy, error, run: attempt } = useAsyncAction();

  return (
    <ScrollView contentContainerStyle={styles.scroll} style={styles.screen} testID="signin-screen">
      <Text style={styles.title}>Sign in to PhotoSync</Text>
      {notice ? <Notice testID="signin-notice">{notice}</Notice> : null}
      <Section title="Server">
        <TextInput
          style={styles.input}
          value={server}
          onChangeText={setServer}
          placeholder="http://192.168.1.20:8000"
          autoCapitalize="none"
          autoCorrect={false}
          keyboardType="url"
          accessibilityLabel="Server address"
          testID="server-input"
        />
      </Section>
      <Section title="Sign in with your account">
        <Text style={styles.muted}>Opens the server's sign-in page (Google through Cognito on AWS).</Text>
        <TextInput
          style={styles.input}
          value={clientId}
          onChangeText={setClientId}
          autoCapitalize="none"
          autoCorrect={false}
          accessibilityLabel="App client id"
          testID="client-id-input"
        />
        <Button
          title="Sign in with browser"
          disabled={busy || !server || !clientId}
          onPress={() => attempt(() => signInBrowser(server, clientId.trim()))}
          testID="browser-signin"
        />
      </Section>
      <Section title="Dev sign-in (local server)">
        <Text style={styles.muted}>
          For `photosync serve` on this computer or, started with --allow-dev-login, on your network.
        </Text>
        <TextInput
          style={styles.input}
          value={email}
          onChangeText={setEmail}
          placeholder="you@example.com"
          autoCapitalize="none"
          autoCorrect={false}
          keyboardType="email-address"
          accessibilityLabel="Email"
          testID="email-input"
        />
        <Button
          title="Sign in"
          disabled={busy || !server || !email}
          onPress={() => attempt(() => signInDev(server, email))}
          testID="dev-signin"
        />
      </Section>
      <View>
        <ErrorMessage error={error} testID="signin-error" />
      </View>
    </ScrollView>
  );
}
