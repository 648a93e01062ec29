/** In a browser the "camera roll" is the set of files the user picks here. */
import { useEffect, useState } from 'react';
import { Text, View } from 'react-native';

import { addPickedFiles, onPickedChange, pickedCount } from '../media/index.web';
import { styles } from './ui';

export function FilePicker() {
  const [count, setCount] = useState(pickedCount());
  useEffect(() => onPickedChange(() => setCount(pickedCount())), []);
  return (
    <View style={{ gap: 6 }}>
      <Text style={styles.text}>Choose photos and videos to back up ({count} chosen):</Text>
      <input
        type="file"
        multiple
        accept="image/*,video/*,.heic,.heif,.dng,.cr2,.cr3,.nef,.arw,.raf,.rw2,.orf"
        aria-label="Choose photos"
        data-testid="file-input"
        onChange={(event) => {
          const input = event.currentTarget;
          if (input.files) addPickedFiles(Array.from(input.files));
          input.value = '';
        }}
      />
    </View>
  );
}
