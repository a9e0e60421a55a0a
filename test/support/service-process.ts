import { join } from 'node:path';
import { type TsChildHandle, spawnTs } from '@parley/testing';

/** The conference service in a process of its own (so a test can kill and restart it). */
export async function spawnConferenceService(env: Record<string, string>): Promise<TsChildHandle> {
  const child = spawnTs(join(__dirname, '../../apps/conference/src/main.ts'), { env: { LOG_LEVEL: 'warn', ...env } });
  await child.message<{ ready?: string }>((m) => m?.ready === 'conference', 30_000);
  return child;
}

/** The presence service in a process of its own (a test reads its log, or kills and restarts it). */
export async function spawnPresenceService(env: Record<string, string>): Promise<TsChildHandle> {
  const child = spawnTs(join(__dirname, '../../apps/presence/src/main.ts'), { env: { LOG_LEVEL: 'warn', ...env } });
  await child.message<{ ready?: string }>((m) => m?.ready === 'presence', 30_000);
  return child;
}
