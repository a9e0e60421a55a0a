import { runService } from '@parley/messaging';
import { startPresenceService } from './bootstrap';
import { presenceConfigFromEnv } from './config';

runService('presence', () => startPresenceService(presenceConfigFromEnv()));
