import { FreeUpScreen } from '../../src/screens/FreeUpScreen';

export default FreeUpScreen;
