import { PARLEY_SERVICES } from '@parley/contracts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { type ServiceDefinition, listSettings, platformSettings } from '@parley/service-kit';
import { REPOSITORY_ROOT } from '@parley/testing';
import { gatewaySettings } from '../apps/gateway/src';

/**
 * docker-compose.yml and deploy/ describe a production deployment nobody can start here (no
 * container runtime), so this checks them against what the code declares: PARLEY_SERVICES'
 * processes, each kit service's settings, its database, the NATS cluster's size.
 */
interface ComposeService {
  command?: string[];
  environment?: Record<string, string>;
}
const read = (path: string) => readFileSync(join(REPOSITORY_ROOT, path), 'utf8');
const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, ComposeService> };
const natsNodes = Object.keys(compose.services).filter((name) => /^nats-\d+$/.test(name));
const kitServices = PARLEY_SERVICES.filter((s) => s.kind === 'service');
const definitionOf = (name: string, app: string): ServiceDefinition => require(join(REPOSITORY_ROOT, app, 'src'))[`${name}Service`];
const settingsOf = (name: string, app: string) => listSettings({ ...platformSettings, ...definitionOf(name, app).settings });

describe('docker-compose.yml and deploy/', () => {
  it('run every process of PARLEY_SERVICES from its built main', () => {
    for (const s of PARLEY_SERVICES) expect({ service: s.name, command: compose.services[s.name]?.command }).toEqual({ service: s.name, command: [`${s.app}/dist/main.js`] });
  });

  it.each(kitServices.map((s) => [s.name, s.app]))('give %s only settings it declares, JETSTREAM_REPLICAS equal to the NATS nodes, and its own database', (name, app) => {
    const env = compose.services[name].environment ?? {};
    const declared = new Set(settingsOf(name, app).map((s) => s.env));
    expect(Object.keys(env).filter((key) => !declared.has(key))).toEqual([]);
    expect(natsNodes.length).toBe(3);
    expect(env.JETSTREAM_REPLICAS).toBe(String(natsNodes.length));
    const entry = PARLEY_SERVICES.find((s) => s.name === name)!;
    if (entry.eventStore) {
      expect(env.DATABASE_URL).toMatch(new RegExp(`@postgres:5432/${name}$`));
      expect(read('deploy/postgres/init-databases.sh')).toMatch(new RegExp(`parley_databases="\\$\\{PARLEY_DATABASES:-[a-z,]*\\b${name}\\b`));
    } else {
      expect(env.DATABASE_URL).toBeUndefined();
    }
  });

  it('give the gateway only settings it declares (or its authentication reads)', () => {
    const auth = ['JWT_SECRET', 'JWT_ISSUER', 'JWT_AUDIENCE', 'JWKS_URL', 'OAUTH_CLIENTS', 'TOKEN_TTL_SECONDS'];
    const declared = new Set([...listSettings(gatewaySettings).map((s) => s.env), ...auth]);
    expect(Object.keys(compose.services.gateway.environment ?? {}).filter((key) => !declared.has(key))).toEqual([]);
  });

  it('and the README document every setting of every kit service and the gateway', () => {
    const readme = read('README.md');
    const all = [...kitServices.flatMap((s) => settingsOf(s.name, s.app).map((x) => x.env)), ...listSettings(gatewaySettings).map((x) => x.env)];
    const missing = all.filter((env) => !readme.includes(`\`${env}\``));
    expect([...new Set(missing)]).toEqual([]);
  });
});
