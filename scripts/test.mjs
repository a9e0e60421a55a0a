#!/usr/bin/env node
// `npm test`: installs what the suite needs, type-checks and builds, runs every jest tier,
// and ends with one line "N passed, N failed" taken from jest's own results.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
const jest = spawnSync('npx', ['jest', '--maxWorkers=2', '--json', `--outputFile=${resultsFile}`, ...process.argv.slice(2)], { stdio: 'inherit', cwd: root });
let passed = 0;
let failed = 0;
try {
  const r = JSON.parse(readFileSync(resultsFile, 'utf8'));
  passed = r.numPassedTests;
  failed = r.numFailedTests + r.numRuntimeErrorTestSuites;
} catch {
  failed = Math.max(1, failed);
}
rmSync(out, { recursive: true, force: true });
const ok = jest.status === 0 && failed === 0;
process.stdout.write(`\n${passed} passed, ${failed} failed\n`);
process.exit(ok ? 0 : 1);
