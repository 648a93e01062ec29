import { BackupScreen } from '../../src/screens/BackupScreen';

export default BackupScreen;
