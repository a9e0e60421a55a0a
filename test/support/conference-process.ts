import { join } from 'node:path';
import { type TsChildHandle, spawnTs } from '@parley/testing';

/** The conference service in a process of its own (so a test can kill and restart it). */
export async function spawnConferenceService(env: Record<string, string>): Promise<TsChildHandle> {
  const child = spawnTs(join(__dirname, '../../apps/conference/src/main.ts'), { env: { LOG_LEVEL: 'warn', ...env } });
  await child.message<{ ready?: string }>((m) => m?.ready === 'conference', 30_000);
  return child;
}
