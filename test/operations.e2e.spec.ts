import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type NatsServerHandle, type TsChildHandle, startNats, waitFor } from '@parley/testing';
import { Stack } from './support/stack';
import { spawnService } from './support/service-process';

describe('what an operator sees', () => {
  describe('/health', () => {
    let stack: Stack;
    beforeAll(async () => {
      stack = await Stack.start({ postgres: true, presence: {}, interaction: {}, snapshot: {}, media: {} });
    });
    afterAll(() => stack?.stop());

    it('is 200 with every part up, and 503 naming each service whose database is down', async () => {
      const ok = await stack.anonymous().request('GET', '/health');
      expect(ok.status).toBe(200);
      expect(ok.body).toMatchObject({
        status: 'ok',
        services: {
          conference: { status: 'ok', database: { status: 'up' }, relay: { status: 'up', lag: 0, deadLetters: 0 } },
          presence: { status: 'ok', database: { status: 'up' } },
          interaction: { status: 'ok', database: { status: 'up' } },
          snapshot: { status: 'ok', database: { status: 'up' } },
          media: { status: 'ok', gauges: { rooms: 0 } },
        },
      });
      await stack.pg!.kill();
      const down = await waitFor(
        async () => {
          const h = await stack.anonymous().request('GET', '/health');
          return h.status === 503 ? h : undefined;
        },
        { timeoutMs: 15_000, description: '/health 503' },
      );
      expect(down.body).toMatchObject({
        status: 'unavailable',
        down: ['conference.database', 'presence.database', 'interaction.database', 'snapshot.database'],
        services: { conference: { status: 'down', database: { status: 'down', error: expect.any(String) } }, media: { status: 'ok' } },
      });
    });
  });

  describe('log lines', () => {
    let nats: NatsServerHandle;
    const children: TsChildHandle[] = [];
    const dataDir = mkdtempSync(join(tmpdir(), 'parley-logs-'));
    beforeAll(async () => {
      nats = await startNats();
    });
    afterAll(async () => {
      for (const c of children) await c.kill('SIGTERM');
      await nats?.stop();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('are JSON by default, readable with LOG_FORMAT=pretty, and report the settings with secrets masked', async () => {
      const env = { NATS_URL: nats.url, LOG_LEVEL: 'info', TURN_SECRET: 'very-secret-value', MEDIA_WORKERS: '1', MEDIASOUP_WORKER_BIN: process.env.MEDIASOUP_WORKER_BIN ?? '' };
      const json = await spawnService('presence', { ...env, DATA_DIR: join(dataDir, 'json'), DATABASE_URL: 'postgres://parley:hunter2@127.0.0.1:1/none' }).catch((e: Error) => e);
      // It cannot reach that database, but it said what it was given first.
      expect(String(json)).toMatch(/"DATABASE_URL":"postgres:\/\/parley:\*\*\*\*@127\.0\.0\.1:1\/none"/);
      expect(String(json)).not.toContain('hunter2');

      const plain = await spawnService('conference', { ...env, DATA_DIR: join(dataDir, 'plain') });
      children.push(plain);
      const line = await waitFor(() => plain.output().split('\n').find((l) => l.includes('conference service ready')), { description: 'the ready line' });
      expect(JSON.parse(line)).toMatchObject({ level: 30, name: 'conference', msg: expect.stringMatching(/^conference service ready/) });

      const pretty = await spawnService('presence', { ...env, DATA_DIR: join(dataDir, 'pretty'), LOG_FORMAT: 'pretty' });
      children.push(pretty);
      await waitFor(() => pretty.output().includes('presence service ready'), { description: 'the ready line' });
      const readable = pretty.output().split('\n').find((l) => l.includes('presence service ready'))!;
      expect(readable.trimStart().startsWith('{')).toBe(false);
      expect(readable).toMatch(/INFO/);
    });
  });
});
