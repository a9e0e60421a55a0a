import { PARLEY_SERVICES } from '@parley/contracts';
import { join } from 'node:path';
import { REPOSITORY_ROOT, type TsChildHandle, spawnTs } from '@parley/testing';
import { testProcessEnv } from './secrets';

/**
 * A service of PARLEY_SERVICES in a process of its own, started as production starts it (so a
 * test can read its log, kill it, or signal it), in development mode unless `env` says
 * PARLEY_MODE otherwise.
 */
export async function spawnService(name: string, env: Record<string, string>): Promise<TsChildHandle> {
  const entry = PARLEY_SERVICES.find((s) => s.name === name);
  if (!entry) throw new Error(`PARLEY_SERVICES has no service named ${name}`);
  const child = spawnTs(join(REPOSITORY_ROOT, entry.app, 'src/main.ts'), { env: { LOG_LEVEL: 'warn', PARLEY_MODE: 'development', ...testProcessEnv(name), ...(entry.kind === 'gateway' ? { METRICS_PORT: '0' } : {}), ...env } });
  await child.message<{ ready?: string }>((m) => m?.ready === name, 60_000);
  return child;
}
