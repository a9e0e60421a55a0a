import { makeSecrets, secretsEnvFile } from '../secrets';

/**
 * `npm run -s secrets > .env`: every secret a deployment needs (docker-compose.yml refuses to
 * start without them), new each time it runs. See docs/security.md.
 */
process.stdout.write(secretsEnvFile(makeSecrets(), new Date().toISOString()));
