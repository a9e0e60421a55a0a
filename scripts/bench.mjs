#!/usr/bin/env node
// `npm run bench`: makes sure nats-server, PostgreSQL, node_modules and the mediasoup worker are there, then runs
// bench/main.ts (through the scripts/register-ts.cjs preload, no build step). The bench starts
// its own servers and services on free ports, prints its tables and rewrites BENCHMARKS.md.
//
// Knobs (environment): BENCH_CONCURRENCY=1,8,32  BENCH_ITERATIONS=<iterations per client>
// BENCH_PHASE_SECONDS=<time cap per load phase>  BENCH_LONGPOLL_SAMPLES=<n>  BENCH_OUTPUT=<file>
// BENCH_SECTIONS=conference,sfu  BENCH_SFU_VIEWERS=1,10,25,...  BENCH_SFU_SECONDS=<window per step>
// BENCH_SFU_VIDEO=160x120  BENCH_SFU_FPS=15  BENCH_SFU_BITRATE=<publisher cap, bit/s>
// BENCH_TRANSACTION_IDS=off (leaves out the conference load with X-Auvious-TransactionId)
// BENCH_PROFILE_DIR=<dir> (each process's V8 CPU profile and PostgreSQL's pg_stat_statements go
// there; `node -r ./scripts/register-ts.cjs bench/profile.ts <dir> [commands]` summarizes them)
import { spawn } from 'node:child_process';
import { ensureDebianPackages, ensureNodeModules, log, natsPackage, postgresBinDir, postgresPackage, root } from './lib.mjs';
import { ensureMediasoupWorker } from './mediasoup-worker.mjs';

ensureDebianPackages([natsPackage, postgresPackage]);
ensureNodeModules();

const env = { ...process.env };
// startPostgres defaults to Debian's PostgreSQL 15; use whichever major version is installed.
if (!env.PG_BIN_DIR) env.PG_BIN_DIR = postgresBinDir();
if (!env.MEDIASOUP_WORKER_BIN) env.MEDIASOUP_WORKER_BIN = await ensureMediasoupWorker();

log('running bench/main.ts');
const child = spawn(process.execPath, ['-r', './scripts/register-ts.cjs', 'bench/main.ts', ...process.argv.slice(2)], { cwd: root, env, stdio: 'inherit' });
// A Ctrl-C reaches the bench too (same process group); it cleans up and exits, then so do we.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
