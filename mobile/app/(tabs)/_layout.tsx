import { Tabs } from 'expo-router';

export default function TabsLayout() {
  return (
    <Tabs screenOptions={{ tabBarIconStyle: { display: 'none' }, tabBarLabelStyle: { fontSize: 14 } }}>
      <Tabs.Screen name="index" options={{ title: 'Photos', tabBarButtonTestID: 'tab-photos' }} />
      <Tabs.Screen name="albums" options={{ title: 'Albums', tabBarButtonTestID: 'tab-albums' }} />
      <Tabs.Screen name="backup" options={{ title: 'Backup', tabBarButtonTestID: 'tab-backup' }} />
      <Tabs.Screen name="freeup" options={{ title: 'Free up space', tabBarButtonTestID: 'tab-freeup' }} />
      <Tabs.Screen name="account" options={{ title: 'Account', tabBarButtonTestID: 'tab-account' }} />
    </Tabs>
  );
}
