/** A browser tab cannot back up in the background: the option is not offered on the web. */
export async function setBackgroundBackup(_enabled: boolean, _albumIds: string[]): Promise<boolean> {
  return false;
}

export const backgroundBackupAvailable = false;
