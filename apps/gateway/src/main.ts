import { authConfigFromEnv } from '@parley/auth';
import { runService } from '@parley/messaging';
import { startGateway } from './bootstrap';
import { gatewayConfigFromEnv } from './config';

runService('gateway', async () => {
  const gateway = await startGateway(gatewayConfigFromEnv(), authConfigFromEnv());
  console.log(`Parley gateway listening on ${gateway.url} (API ${gateway.url}/rtc-api), metrics on ${gateway.metricsUrl}`);
  return gateway;
});
