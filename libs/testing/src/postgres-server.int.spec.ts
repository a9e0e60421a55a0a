import { existsSync } from 'node:fs';
import { Client } from 'pg';
import { startPostgres } from './postgres-server';

async function query<R>(url: string, text: string): Promise<R[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text)).rows as R[];
  } finally {
    await client.end();
  }
}

// The int project's testTimeout is not applied per project by jest 29, so set it here.
jest.setTimeout(30_000);

describe('startPostgres', () => {
  it('starts a throw-away cluster with the test settings and creates databases', async () => {
    const pg = await startPostgres();
    try {
      expect(pg.url).toBe(`postgres://postgres@127.0.0.1:${pg.port}/postgres`);
      const [settings] = await query<{ fsync: string; max: string }>(
        pg.url,
        `select current_setting('fsync') as fsync, current_setting('max_connections') as max`,
      );
      expect(settings).toEqual({ fsync: 'off', max: '200' });

      const named = await pg.createDatabase('orders');
      expect(named).toBe(`postgres://postgres@127.0.0.1:${pg.port}/orders`);
      const random = await pg.createDatabase();
      expect(random).not.toBe(named);
      const [row] = await query<{ db: string }>(random, 'select current_database() as db');
      expect(random.endsWith(`/${row.db}`)).toBe(true);

      await expect(pg.createDatabase('bad"name')).rejects.toThrow('invalid database name');
    } finally {
      await pg.stop();
    }
  });

  it('stop() is idempotent and removes the cluster', async () => {
    const pg = await startPostgres();
    const { dataDir, url } = pg;
    expect(existsSync(dataDir)).toBe(true);
    await Promise.all([pg.stop(), pg.stop()]);
    await pg.stop();
    expect(existsSync(dataDir)).toBe(false);
    await expect(query(url, 'select 1')).rejects.toThrow();
  });
});
