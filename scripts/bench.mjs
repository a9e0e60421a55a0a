#!/usr/bin/env node
// `npm run bench`: makes sure nats-server, PostgreSQL and node_modules are there, then runs
// bench/main.ts (through the scripts/register-ts.cjs preload, no build step). The bench starts
// its own servers and services on free ports, prints its tables and rewrites BENCHMARKS.md.
//
// Knobs (environment): BENCH_CONCURRENCY=1,8,32  BENCH_ITERATIONS=<iterations per client>
// BENCH_PHASE_SECONDS=<time cap per load phase>  BENCH_LONGPOLL_SAMPLES=<n>  BENCH_OUTPUT=<file>
import { spawn } from 'node:child_process';
import { ensureDebianPackages, ensureNodeModules, log, natsPackage, postgresBinDir, postgresPackage, root } from './lib.mjs';

ensureDebianPackages([natsPackage, postgresPackage]);
ensureNodeModules();

const env = { ...process.env };
// startPostgres defaults to Debian's PostgreSQL 15; use whichever major version is installed.
if (!env.PG_BIN_DIR) env.PG_BIN_DIR = postgresBinDir();

log('running bench/main.ts');
const child = spawn(process.execPath, ['-r', './scripts/register-ts.cjs', 'bench/main.ts', ...process.argv.slice(2)], { cwd: root, env, stdio: 'inherit' });
// A Ctrl-C reaches the bench too (same process group); it cleans up and exits, then so do we.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
