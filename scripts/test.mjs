#!/usr/bin/env node
// `npm test`: installs what the suite needs, type-checks and builds, runs every jest tier,
// checks that nothing the run printed (every service's log lines included) holds a credential,
// and ends with one line "N passed, N failed" taken from jest's own results (the log check
// counts as one more test).
import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { coturnPackage, ensureDebianPackages, ensureNodeModules, log, natsPackage, postgresBinDir, postgresPackage, root, run, which } from './lib.mjs';
import { ensureMediasoupWorker } from './mediasoup-worker.mjs';

// Browser tests drive Debian's Chromium; the TURN test starts a real coturn.
const chromiumPackage = { pkg: 'chromium', present: () => !!which('chromium') };
ensureDebianPackages([natsPackage, postgresPackage, chromiumPackage, coturnPackage]);
ensureNodeModules();
// The harness's throw-away clusters use the newest installed PostgreSQL server binaries.
process.env.PG_BIN_DIR ??= postgresBinDir();
// The SFU's tests need mediasoup's worker: built once from Debian's libraries, cached by version.
process.env.MEDIASOUP_WORKER_BIN = await ensureMediasoupWorker();
log('type-checking and building (tsc -b)');
run('npx', ['tsc', '-b', 'tsconfig.build.json']);
run('npx', ['tsc', '-p', 'tsconfig.json', '--noEmit']);
log('linting (module boundaries between apps and libs, TypeScript rules)');
run('npm', ['run', '-s', 'lint']);

const out = mkdtempSync(join(tmpdir(), 'parley-jest-'));
const resultsFile = join(out, 'results.json');
const outputFile = join(out, 'output.log');
// The run's secrets: every stack, service and gateway of the run uses these (test/support/secrets.ts),
// so the log check knows what to look for.
const { makeSecrets } = (await import(join(root, 'libs/service-kit/dist/secrets.js'))).default;
const secrets = makeSecrets();
const jest = await new Promise((resolve) => {
  const child = spawn('npx', ['jest', '--maxWorkers=2', '--json', `--outputFile=${resultsFile}`, ...process.argv.slice(2)], {
    cwd: root,
    stdio: ['inherit', 'pipe', 'pipe'],
    env: { ...process.env, PARLEY_TEST_SECRETS: JSON.stringify(secrets) },
  });
  const file = createWriteStream(outputFile);
  child.stdout.on('data', (d) => (process.stdout.write(d), file.write(d)));
  child.stderr.on('data', (d) => (process.stderr.write(d), file.write(d)));
  child.on('close', (status) => file.end(() => resolve({ status })));
});
let passed = 0;
let failed = 0;
try {
  const r = JSON.parse(readFileSync(resultsFile, 'utf8'));
  passed = r.numPassedTests;
  failed = r.numFailedTests + r.numRuntimeErrorTestSuites;
} catch {
  failed = Math.max(1, failed);
}
const leaks = credentialsIn(readFileSync(outputFile, 'utf8'), secrets);
if (leaks.length === 0) {
  passed += 1;
  log('log check: nothing the run printed holds a token, a signing key or a password');
} else {
  failed += 1;
  log(`log check: ${leaks.length} line(s) of the run's output hold a credential:\n${leaks.slice(0, 20).join('\n')}`);
}
rmSync(out, { recursive: true, force: true });
const ok = jest.status === 0 && failed === 0;
process.stdout.write(`\n${passed} passed, ${failed} failed\n`);
process.exit(ok ? 0 : 1);

/**
 * Lines that hold a credential: a JWT (a bearer token or a caller assertion), one of the run's
 * secrets (NATS passwords, signing keys, the JWT secret), or a credential query parameter that
 * was not redacted. Each is named with its line number and the credential masked.
 */
function credentialsIn(text, runSecrets) {
  const values = [runSecrets.jwtSecret, runSecrets.postgresPassword, runSecrets.turnSecret, ...Object.values(runSecrets.nats), ...Object.values(runSecrets.identities).map((k) => k.privateKey)];
  const jwt = /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}/;
  const parameter = /\b(access_token|client_secret|refresh_token|password)=(?!\[Redacted\]|\*)[^&\s"']{6,}/;
  const found = [];
  text.split('\n').forEach((line, i) => {
    const what = jwt.test(line) ? 'a JWT' : values.some((v) => line.includes(v)) ? "one of the run's secrets" : parameter.test(line) ? 'a credential parameter' : undefined;
    if (what) found.push(`  line ${i + 1}: ${what}: ${line.slice(0, 160).replace(jwt, 'eyJ…').replace(/[A-Za-z0-9_-]{32,}/g, '…')}`);
  });
  return found;
}
