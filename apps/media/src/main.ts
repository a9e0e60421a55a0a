import { runMain } from '@parley/service-kit';
import { mediaService } from './service';

runMain(mediaService);
