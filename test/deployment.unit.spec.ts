import { PARLEY_SERVICES } from '@parley/contracts';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NATS_PERMISSIONS } from '@parley/messaging';
import { parse } from 'yaml';
import { type ServiceDefinition, deployedNatsAuthorization, identityKeyVariable, listSettings, natsPasswordVariable, platformSettings } from '@parley/service-kit';
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

/**
 * Compose's variable interpolation, as `docker compose config` does it: `${VAR}`, `${VAR:-default}`
 * and `${VAR-default}`, `${VAR:?message}` and `${VAR?message}` (stop with the message), `$$`.
 */
function interpolate(text: string, env: Record<string, string>): string {
  return text.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])([^}]*))?\}/g, (all, name: string | undefined, colon: string, op: string, arg: string) => {
    if (all === '$$') return '$';
    const value = env[name!];
    const missing = value === undefined || (colon === ':' && value === '');
    if (op === '?' && missing) throw new Error(arg);
    if (op === '-' && missing) return arg;
    return value ?? '';
  });
}

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

  it("make every directory an app's volume is mounted on in the image, owned by the user the apps run as", () => {
    const dockerfile = read('Dockerfile');
    expect(dockerfile).toMatch(/^USER node$/m);
    const made = dockerfile.match(/^RUN mkdir -p ([^&]+) && chown node:node (.+)$/m);
    expect(made).not.toBeNull();
    const mounts = PARLEY_SERVICES.flatMap((s) => ((compose.services[s.name] as { volumes?: string[] }).volumes ?? []).map((v) => v.split(':')[1]));
    expect(mounts.length).toBeGreaterThan(0);
    for (const dir of mounts) {
      expect(made![1].split(/\s+/)).toContain(dir);
      expect(made![2].split(/\s+/)).toContain(dir);
    }
  });

  it('give the gateway only settings it declares (or its authentication reads)', () => {
    const auth = ['JWT_SECRET', 'JWT_ISSUER', 'JWT_AUDIENCE', 'JWKS_URL', 'OAUTH_CLIENTS', 'TOKEN_TTL_SECONDS'];
    const declared = new Set([...listSettings(gatewaySettings).map((s) => s.env), ...auth]);
    expect(Object.keys(compose.services.gateway.environment ?? {}).filter((key) => !declared.has(key))).toEqual([]);
  });

  describe('have no default secrets', () => {
    const text = read('docker-compose.yml');
    /** Every `${NAME…}` reference of the file, with what follows the name (`:-default`, `:?message`, …). */
    const references = [...text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)([^}]*)\}/g)].map((m) => ({ name: m[1], rest: m[2] }));
    /** Secrets the deployment must be given: the gateway's (read by libs/auth), PostgreSQL's, and every setting a service declares secret. */
    const declaredSecrets = [...kitServices.flatMap((s) => settingsOf(s.name, s.app)), ...listSettings(gatewaySettings)].filter((s) => s.secret).map((s) => s.env);
    const natsPasswords = Object.keys(NATS_PERMISSIONS).map(natsPasswordVariable);
    const identityKeys = PARLEY_SERVICES.map((s) => identityKeyVariable(s.name));
    const secrets = [...new Set(['JWT_SECRET', 'POSTGRES_PASSWORD', 'TURN_SECRET', ...natsPasswords, ...identityKeys, 'PARLEY_TRUSTED_KEYS', ...declaredSecrets])];
    const required = ['JWT_SECRET', 'POSTGRES_PASSWORD', 'TURN_SECRET', ...natsPasswords, ...identityKeys, 'PARLEY_TRUSTED_KEYS', 'SIGNED_URL_KEYS'];

    it('no secret variable has a default (no ${SECRET:-…} or ${SECRET-…}), and no secret setting is written in the file', () => {
      const defaulted = references.filter((r) => secrets.includes(r.name) && /^:?[-+]/.test(r.rest)).map((r) => `\${${r.name}${r.rest}}`);
      expect(defaulted).toEqual([]);
      for (const [service, spec] of Object.entries(compose.services)) {
        for (const [key, value] of Object.entries(spec.environment ?? {})) {
          if (!secrets.includes(key) || key === 'DATABASE_URL') continue;
          expect({ service, key, value: String(value) }).toEqual({ service, key, value: expect.stringMatching(/^\$\{[A-Z_]+:\?[^}]+\}$/) });
        }
      }
    });

    it.each(required)('%s is required (`${…:?message}`) everywhere it is used, so that `docker compose config` stops without it', (name) => {
      const uses = references.filter((r) => r.name === name);
      expect(uses.length).toBeGreaterThan(0);
      for (const use of uses) expect(use.rest).toMatch(/^:\?\s*\S.*(openssl rand|deploy\/README\.md|npm run -s secrets)/);
      const env = Object.fromEntries(required.map((n) => [n, `${n.toLowerCase()}-value`]));
      expect(() => interpolate(text, env)).not.toThrow();
      expect(() => interpolate(text, { ...env, [name]: '' })).toThrow(new RegExp(`^${name} is not set`));
      const { [name]: _left, ...without } = env;
      expect(() => interpolate(text, without)).toThrow(new RegExp(`^${name} is not set`));
    });

    it('the databases are reached with the PostgreSQL password given, and every app runs in production mode', () => {
      const env = { ...Object.fromEntries(required.map((n) => [n, 'x'])), JWT_SECRET: 'j', POSTGRES_PASSWORD: 'pg-pass-123', TURN_SECRET: 't' };
      const deployed = parse(interpolate(text, env), { merge: true }) as { services: Record<string, ComposeService> };
      for (const s of kitServices.filter((x) => x.eventStore)) expect(deployed.services[s.name].environment?.DATABASE_URL).toBe(`postgres://parley:pg-pass-123@postgres:5432/${s.name}`);
      expect(deployed.services.postgres.environment?.POSTGRES_PASSWORD).toBe('pg-pass-123');
      for (const s of PARLEY_SERVICES) expect({ service: s.name, mode: deployed.services[s.name].environment?.PARLEY_MODE }).toEqual({ service: s.name, mode: 'production' });
    });
  });

  describe('connect every process to NATS as its own user', () => {
    const env = Object.fromEntries([...Object.keys(NATS_PERMISSIONS).map(natsPasswordVariable), ...PARLEY_SERVICES.map((s) => identityKeyVariable(s.name)), 'PARLEY_TRUSTED_KEYS', 'JWT_SECRET', 'POSTGRES_PASSWORD', 'TURN_SECRET', 'SIGNED_URL_KEYS'].map((n) => [n, `${n}-value`]));
    const deployed = parse(interpolate(read('docker-compose.yml'), env), { merge: true }) as { services: Record<string, ComposeService & { volumes?: string[] }> };

    it('deploy/nats/authorization.conf is NATS_PERMISSIONS rendered, and every node includes it and is given every password', () => {
      expect(read('deploy/nats/authorization.conf')).toBe(deployedNatsAuthorization());
      for (const node of natsNodes) {
        expect(read(`deploy/nats/${node}.conf`)).toMatch(/^include \.\/authorization\.conf$/m);
        expect(deployed.services[node].volumes).toContain('./deploy/nats/authorization.conf:/etc/nats/authorization.conf:ro');
        for (const user of Object.keys(NATS_PERMISSIONS)) expect(deployed.services[node].environment?.[natsPasswordVariable(user)]).toBe(`${natsPasswordVariable(user)}-value`);
      }
    });

    it('nats-server accepts that file with the passwords in its environment, and refuses it without one', () => {
      const dir = mkdtempSync(join(tmpdir(), 'parley-nats-conf-'));
      try {
        copyFileSync(join(REPOSITORY_ROOT, 'deploy/nats/authorization.conf'), join(dir, 'authorization.conf'));
        writeFileSync(join(dir, 'test.conf'), 'include ./authorization.conf\n');
        const check = (passwords: Record<string, string>) =>
          spawnSync(process.env.NATS_SERVER_BIN ?? '/usr/sbin/nats-server', ['-t', '-c', join(dir, 'test.conf')], { env: { PATH: process.env.PATH, ...passwords }, encoding: 'utf8' });
        const all = Object.fromEntries(Object.keys(NATS_PERMISSIONS).map((u) => [natsPasswordVariable(u), `pw-${u}`]));
        expect(check(all).status).toBe(0);
        const { NATS_PASSWORD_MEDIA: _media, ...withoutMedia } = all;
        const refused = check(withoutMedia);
        expect(refused.status).not.toBe(0);
        expect(refused.stderr + refused.stdout).toMatch(/NATS_PASSWORD_MEDIA/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it.each(PARLEY_SERVICES.map((s) => [s.name]))('%s connects as its own NATS user, with its own password and signing key', (name) => {
      const e = deployed.services[name].environment ?? {};
      expect({ user: e.NATS_USER, password: e.NATS_PASSWORD, key: e.PARLEY_IDENTITY_KEY, trusted: e.PARLEY_TRUSTED_KEYS }).toEqual({
        user: name,
        password: `${natsPasswordVariable(name)}-value`,
        key: `${identityKeyVariable(name)}-value`,
        trusted: 'PARLEY_TRUSTED_KEYS-value',
      });
    });
  });

  it('and the README document every setting of every kit service and the gateway', () => {
    const readme = read('README.md');
    const all = [...kitServices.flatMap((s) => settingsOf(s.name, s.app).map((x) => x.env)), ...listSettings(gatewaySettings).map((x) => x.env)];
    const missing = all.filter((env) => !readme.includes(`\`${env}\``));
    expect([...new Set(missing)]).toEqual([]);
  });
});
