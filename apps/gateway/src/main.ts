import { authConfigFromEnv } from '@parley/auth';
import { startGateway } from './bootstrap';
import { gatewayConfigFromEnv } from './config';

async function main() {
  const gateway = await startGateway(gatewayConfigFromEnv(), authConfigFromEnv());
  console.log(`Parley gateway listening on ${gateway.url} (API ${gateway.url}/rtc-api, docs ${gateway.url}/rtc-api/docs)`);
  // A supervisor that started us with an IPC channel (npm start, the tests) learns we are ready.
  process.send?.({ ready: 'gateway', url: gateway.url });
  const stop = async () => {
    await gateway.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
