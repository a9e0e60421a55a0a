import { runMain } from '@parley/service-kit';
import { presenceService } from './service';

runMain(presenceService);
