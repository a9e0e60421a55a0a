import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TsChildHandle } from '@parley/testing';
import { waitFor } from '@parley/testing';
import { EndpointSocket } from './support/endpoint-socket';
import { spawnService } from './support/service-process';
import { Stack } from './support/stack';

describe('presence log', () => {
  let stack: Stack;
  let presence: TsChildHandle;
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-presence-log-'));
  beforeAll(async () => {
    stack = await Stack.start();
    presence = await spawnService('presence', { NATS_URL: stack.nats.url, DATA_DIR: dataDir, LOG_LEVEL: 'info' });
  });
  afterAll(async () => {
    await presence?.kill('SIGTERM');
    await stack?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("sendEvent's log line carries the masked event; the recipient gets it unmasked", async () => {
    const agent = await stack.api('agent-1', 'org-a', ['AGENT']);
    const customer = await stack.api('cust-1', 'org-a', ['CUSTOMER']);
    expect((await customer.post('/users/endpoints/register', { userEndpointId: 'ep-log', keepAliveSeconds: 60 })).status).toBe(200);
    const ws = await EndpointSocket.open(stack.gateway.url, customer.token!, 'ep-log');
    const event = { type: 'IdentityCheckedEvent', timestamp: new Date().toISOString(), person: { ssn: '078-05-1120', name: 'Ada' }, emails: ['ada@example.org'] };
    const sent = await agent.post('/users/endpoints/sendEvent', { userId: 'cust-1', masks: ['$.person.ssn', '$.emails[*]'], event });
    expect(sent.body).toBe(1);
    const got = await ws.next((d) => d.event.type === 'IdentityCheckedEvent');
    expect(got.event).toEqual(event);
    const line = await waitFor(() => presence.output().split('\n').find((l) => l.includes(got.id)), { description: 'the sendEvent log line' });
    expect(JSON.parse(line)).toMatchObject({ msg: 'sendEvent', deliveryId: got.id, event: { ...event, person: { ssn: '***********', name: 'Ada' }, emails: ['***************'] } });
    expect(presence.output()).not.toContain('078-05-1120');
    expect(presence.output()).not.toContain('ada@example.org');
    await ws.close();
  });
});
