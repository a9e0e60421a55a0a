/**
 * A service for run-service.int.spec.ts whose code throws where nothing catches it (a timer's
 * callback, a promise nobody awaits) once it runs. It answers 'ping' over IPC while it lives.
 * The file name ends in `.spec.ts` only so the library build leaves it out; jest does not run it.
 */
import { runService } from './run-service';

runService('crashy', async () => {
  process.on('message', (m) => {
    if (m === 'crash') {
      setTimeout(() => {
        throw new Error('thrown in a timer');
      }, 1);
      void Promise.reject(new Error('rejected with nobody awaiting'));
    }
    if (m === 'ping') process.send?.('pong');
  });
  // HANG_ON_CLOSE: a close that never finishes (its database or NATS gone, say).
  return { close: () => (process.env.HANG_ON_CLOSE ? new Promise<void>(() => undefined) : Promise.resolve()) };
});
