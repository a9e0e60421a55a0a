import { runService } from '@parley/messaging';
import { startConferenceService } from './bootstrap';
import { conferenceConfigFromEnv } from './config';

runService('conference', () => startConferenceService(conferenceConfigFromEnv()));
