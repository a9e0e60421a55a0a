import { existsSync } from 'node:fs';
import { connect, StorageType } from 'nats';
import { startNats, type NatsServerHandle } from './nats-server';

// The int project's testTimeout is not applied per project by jest 29, so set it here.
jest.setTimeout(30_000);

describe('startNats', () => {
  let server: NatsServerHandle | undefined;
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  it('starts a JetStream server whose data survives a kill and a restart on the same port', async () => {
    server = await startNats();
    expect(server.url).toBe(`nats://127.0.0.1:${server.port}`);

    let nc = await connect({ servers: server.url });
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: 'T', subjects: ['t.>'], storage: StorageType.File });
    await nc.jetstream().publish('t.one', new TextEncoder().encode('hello'));
    await nc.close();

    await server.kill();
    await expect(connect({ servers: server.url, reconnect: false, timeout: 500 })).rejects.toThrow();

    await server.restart();
    nc = await connect({ servers: server.url });
    const info = await (await nc.jetstreamManager()).streams.info('T');
    expect(info.state.messages).toBe(1);
    await nc.close();

    await server.restart(); // also from a running server (graceful stop first)
    nc = await connect({ servers: server.url });
    expect((await (await nc.jetstreamManager()).streams.info('T')).state.messages).toBe(1);
    await nc.close();
  });

  it('stop() is graceful, idempotent and removes the store dir', async () => {
    server = await startNats();
    const { storeDir, url } = server;
    expect(existsSync(storeDir)).toBe(true);
    await Promise.all([server.stop(), server.stop()]);
    await server.stop();
    expect(existsSync(storeDir)).toBe(false);
    await expect(connect({ servers: url, reconnect: false, timeout: 500 })).rejects.toThrow();
  });

  it('can start without JetStream', async () => {
    server = await startNats({ jetstream: false });
    const nc = await connect({ servers: server.url });
    await expect(nc.jetstreamManager()).rejects.toThrow();
    await nc.close();
  });

  it('gives each server its own port and store dir', async () => {
    const [a, b] = await Promise.all([startNats(), startNats()]);
    try {
      expect(a.port).not.toBe(b.port);
      expect(a.storeDir).not.toBe(b.storeDir);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });
});
