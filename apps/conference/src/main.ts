import { conferenceConfigFromEnv } from './config';
import { startConferenceService } from './bootstrap';

async function main() {
  const service = await startConferenceService(conferenceConfigFromEnv());
  // A supervisor that started us with an IPC channel (npm start, the tests) learns we are ready.
  process.send?.({ ready: 'conference' });
  const stop = async () => {
    await service.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
