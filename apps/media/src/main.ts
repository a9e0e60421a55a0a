import { runService } from '@parley/messaging';
import { startMediaService } from './bootstrap';
import { mediaConfigFromEnv } from './config';

runService('media', () => startMediaService(mediaConfigFromEnv()));
