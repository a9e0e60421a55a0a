import { runMain } from '@parley/service-kit';
import { snapshotService } from './service';

runMain(snapshotService);
