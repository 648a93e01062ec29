/** The few building blocks every screen uses: buttons, messages, a progress bar. */
import type { ReactNode } from 'react';
import { ActivityIndicator, Pressable, StyleSheet, Text, View, type ViewStyle } from 'react-native';

import { ApiError } from '../api/errors';

export const colors = {
  accent: '#1a73e8',
  danger: '#c5221f',
  text: '#202124',
  muted: '#5f6368',
  border: '#dadce0',
  background: '#ffffff',
  surface: '#f1f3f4',
  warning: '#fef7e0',
};

export function Button({
  title,
  onPress,
  disabled,
  kind = 'primary',
  testID,
}: {
  title: string;
  onPress: () => void;
  disabled?: boolean;
  kind?: 'primary' | 'secondary' | 'danger';
  testID?: string;
}) {
  return (
    <Pressable
      accessibilityRole="button"
      accessibilityState={{ disabled: !!disabled }}
      disabled={disabled}
      onPress={onPress}
      testID={testID}
      style={({ pressed }) => [
        styles.button,
        kind === 'secondary' && styles.secondary,
        kind === 'danger' && styles.danger,
        (pressed || disabled) && { opacity: 0.6 },
      ]}
    >
      <Text style={[styles.buttonText, kind === 'secondary' && { color: colors.accent }]}>{title}</Text>
    </Pressable>
  );
}

/** What went wrong and what to do next; `ApiError`s carry their own advice. */
export function ErrorMessage({ error, testID = 'error-message' }: { error: unknown; testID?: string }) {
  if (!error) return null;
  const message = error instanceof Error ? error.message : String(error);
  const title =
    error instanceof ApiError
      ? {
          no_connection: 'No connection',
          signed_out: 'Signed out',
          quota_exceeded: 'Storage full',
          rate_limited: 'Server busy',
        }[error.kind as string] ?? 'Something went wrong'
      : 'Something went wrong';
  return (
    <View accessibilityRole="alert" style={styles.error} testID={testID}>
      <Text style={styles.errorTitle}>{title}</Text>
      <Text style={styles.errorText}>{message}</Text>
    </View>
  );
}

export function Notice({ children, testID }: { children: ReactNode; testID?: string }) {
  return (
    <View style={styles.notice} testID={testID}>
      <Text style={styles.noticeText}>{children}</Text>
    </View>
  );
}

export function ProgressBar({ parts, testID }: { parts: { fraction: number; color: string }[]; testID?: string }) {
  return (
    <View style={styles.bar} testID={testID}>
      {parts.map((part, index) => (
        <View
          key={index}
          style={{ width: `${Math.max(0, Math.min(1, part.fraction)) * 100}%`, backgroundColor: part.color }}
        />
      ))}
    </View>
  );
}

export function Loading() {
  return (
    <View style={styles.center}>
      <ActivityIndicator color={colors.accent} />
    </View>
  );
}

export function Section({ title, children, style }: { title?: string; children: ReactNode; style?: ViewStyle }) {
  return (
    <View style={[styles.section, style]}>
      {title ? <Text style={styles.sectionTitle}>{title}</Text> : null}
      {children}
    </View>
  );
}

export const styles = StyleSheet.create({
  screen: { flex: 1, backgroundColor: colors.background },
  scroll: { padding: 16, gap: 12 },
  center: { flex: 1, alignItems: 'center', justifyContent: 'center', padding: 24 },
  button: {
    backgroundColor: colors.accent,
    borderRadius: 8,
    paddingVertical: 12,
    paddingHorizontal: 16,
    alignItems: 'center',
  },
  secondary: { backgroundColor: colors.background, borderWidth: 1, borderColor: colors.border },
  danger: { backgroundColor: colors.danger },
  buttonText: { color: '#fff', fontWeight: '600', fontSize: 16 },
  error: { backgroundColor: '#fce8e6', borderRadius: 8, padding: 12, gap: 4 },
  errorTitle: { color: colors.danger, fontWeight: '700' },
  errorText: { color: colors.text },
  notice: { backgroundColor: colors.warning, borderRadius: 8, padding: 12 },
  noticeText: { color: colors.text },
  bar: { height: 12, borderRadius: 6, backgroundColor: colors.surface, flexDirection: 'row', overflow: 'hidden' },
  section: { gap: 8 },
  sectionTitle: { fontSize: 18, fontWeight: '700', color: colors.text },
  title: { fontSize: 24, fontWeight: '700', color: colors.text },
  text: { color: colors.text, fontSize: 15 },
  muted: { color: colors.muted, fontSize: 14 },
  input: {
    borderWidth: 1,
    borderColor: colors.border,
    borderRadius: 8,
    paddingHorizontal: 12,
    paddingVertical: 10,
    fontSize: 16,
    color: colors.text,
  },
  row: { flexDirection: 'row', alignItems: 'center', gap: 8 },
});
