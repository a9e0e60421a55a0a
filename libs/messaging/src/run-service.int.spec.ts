import { join } from 'node:path';
import { spawnTs } from '@parley/testing';

describe('runService', () => {
  it('keeps a service running when an exception or a rejection escapes, logs them, and stops cleanly on SIGTERM', async () => {
    const child = spawnTs(join(__dirname, 'run-service-child.fixture.spec.ts'));
    try {
      await child.message<{ ready?: string }>((m) => m?.ready === 'crashy');
      child.child.send('crash');
      // It answers after both escaped.
      await new Promise((r) => setTimeout(r, 200));
      const pong = child.message((m) => m === 'pong');
      child.child.send('ping');
      await pong;
      expect(child.output()).toMatch(/uncaught exception caught by the last-resort handler; the service goes on.*thrown in a timer/);
      expect(child.output()).toMatch(/unhandled rejection caught by the last-resort handler; the service goes on.*rejected with nobody awaiting/);
      child.child.kill('SIGTERM');
      expect(await child.exited).toEqual({ code: 0, signal: null });
    } finally {
      await child.kill();
    }
  });

  it('exits within STOP_TIMEOUT_MS of SIGTERM when its close never finishes', async () => {
    const child = spawnTs(join(__dirname, 'run-service-child.fixture.spec.ts'), { env: { HANG_ON_CLOSE: '1', STOP_TIMEOUT_MS: '500' } });
    try {
      await child.message<{ ready?: string }>((m) => m?.ready === 'crashy');
      child.child.kill('SIGTERM');
      expect(await child.exited).toEqual({ code: 1, signal: null });
      expect(child.output()).toMatch(/crashy did not close within 500 ms; exiting/);
    } finally {
      await child.kill();
    }
  });
});
