import { AccountScreen } from '../../src/screens/AccountScreen';

export default AccountScreen;
