import { runMain } from '@parley/service-kit';
import { conferenceService } from './service';

runMain(conferenceService);
