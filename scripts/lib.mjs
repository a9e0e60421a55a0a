// Shared by `npm start` and `npm test`: find or install what the project needs on a Debian 12 machine.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const root = new URL('..', import.meta.url).pathname.replace(/\/$/, '');

export function log(msg) {
  process.stdout.write(`[parley] ${msg}\n`);
}

export function which(cmd) {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

export function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed with ${r.status ?? r.signal}`);
}

/** The PostgreSQL server binaries (initdb, pg_ctl), newest installed major version. */
export function postgresBinDir() {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return null;
  const versions = readdirSync(base).filter((v) => existsSync(join(base, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a));
  return versions.length ? join(base, versions[0], 'bin') : null;
}

/**
 * Debian packages the project needs, by the file that proves each is there. Installed with
 * apt-get when missing (as root, or through sudo when it is available without a password).
 */
export function ensureDebianPackages(wanted) {
  const missing = wanted.filter(({ present }) => !present()).map(({ pkg }) => pkg);
  if (missing.length === 0) return;
  const sudo = process.getuid?.() === 0 ? [] : which('sudo') ? ['sudo', '-n'] : null;
  if (!sudo || !which('apt-get')) {
    throw new Error(`missing Debian packages: ${missing.join(' ')}; install them with: sudo apt-get install -y ${missing.join(' ')}`);
  }
  log(`installing ${missing.join(' ')} with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const [cmd, ...pre] = sudo.length ? sudo : ['apt-get'];
  const args = (rest) => (sudo.length ? [...pre, 'apt-get', ...rest] : rest);
  run(cmd, args(['update', '-qq']), { env });
  run(cmd, args(['install', '-y', '-qq', '--no-install-recommends', ...missing]), { env });
}

export const natsPackage = { pkg: 'nats-server', present: () => !!which('nats-server') || existsSync('/usr/sbin/nats-server') };
export const postgresPackage = { pkg: 'postgresql', present: () => !!postgresBinDir() };
export const coturnPackage = { pkg: 'coturn', present: () => !!which('turnserver') || existsSync('/usr/bin/turnserver') };

/** npm ci when node_modules is missing or older than the lockfile. */
export function ensureNodeModules() {
  const lock = join(root, 'package-lock.json');
  const marker = join(root, 'node_modules', '.package-lock.json');
  if (existsSync(marker)) {
    const stale = execFileSync('find', [lock, '-newer', marker], { encoding: 'utf8' }).trim();
    if (!stale) return;
  }
  log('installing npm packages (npm ci)');
  run('npm', ['ci', '--no-audit', '--no-fund']);
}

/**
 * The installation's secrets (libs/service-kit/src/secrets.ts), made on the first run and kept in
 * `<dataDir>/secrets.json` (readable by its owner only): every NATS user's password and every
 * process's signing key. Needs the build (tsc -b).
 */
export async function installationSecrets(dataDir) {
  const { makeSecrets, natsAuthorizationConfig, processSecretsEnv } = (await import(join(root, 'libs/service-kit/dist/secrets.js'))).default;
  const file = join(dataDir, 'secrets.json');
  let secrets;
  try {
    secrets = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    secrets = undefined;
  }
  const fresh = makeSecrets();
  // A process or NATS user added since the file was made gets its own; what exists is kept.
  const merged = secrets ? { ...fresh, ...secrets, nats: { ...fresh.nats, ...secrets.nats }, identities: { ...fresh.identities, ...secrets.identities } } : fresh;
  if (JSON.stringify(merged) !== JSON.stringify(secrets)) {
    writeFileSync(file, `${JSON.stringify(merged, null, 2)}\n`, { mode: 0o600 });
    chmodSync(file, 0o600); // a file that was there keeps its mode otherwise
    log(secrets ? `added new processes' secrets to ${file}` : `made this installation's secrets: ${file} (keep it private)`);
  }
  return { secrets: merged, natsAuthorization: natsAuthorizationConfig(merged), envOf: (name) => processSecretsEnv(merged, name) };
}

/** Every process of Parley, in start order: PARLEY_SERVICES of libs/contracts, read from its build (the test harness and the bench read it too). */
export async function registeredServices() {
  return (await import(join(root, 'libs/contracts/dist/services.js'))).default.PARLEY_SERVICES;
}
