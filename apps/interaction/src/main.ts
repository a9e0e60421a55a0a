import { runMain } from '@parley/service-kit';
import { interactionService } from './service';

runMain(interactionService);
