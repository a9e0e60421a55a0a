import { AckPolicy, type NatsConnection, type Status, connect, headers } from 'nats';
import { ConferenceCommands, MediaCommands, type RequestContext } from '@parley/contracts';
import { CallerAssertions, NatsRpcClient, callerIdentity, identitySettings, inboxPrefixOf, readSettings } from '@parley/messaging';
import { startService } from '@parley/service-kit';
import { waitFor } from '@parley/testing';
import { conferenceService } from '../apps/conference/src';
import { TEST_SECRETS, testProcessEnv } from './support/secrets';
import { Stack } from './support/stack';

/**
 * Nothing on the bus is believed unchecked: NATS wants a user, each process's user may publish and
 * read only its own subjects, and every request carries its caller signed by the process that
 * sends it, bound to that one message, checked before any handler runs.
 */
describe('the bus: NATS users and signed callers', () => {
  let stack: Stack;
  const open: NatsConnection[] = [];

  beforeAll(async () => {
    stack = await Stack.start({ presence: {}, media: {} });
  });
  afterAll(async () => {
    for (const nc of open) await nc.close().catch(() => undefined);
    await stack?.stop();
  });

  /** A connection as `user` (a process of PARLEY_SERVICES, with the password the stack gave it), recording what the server refuses it. */
  async function as(user: string): Promise<{ nc: NatsConnection; refusals: string[] }> {
    const nc = await connect({ servers: stack.nats.url, user, pass: TEST_SECRETS.nats[user], inboxPrefix: inboxPrefixOf(user) });
    open.push(nc);
    const refusals: string[] = [];
    void (async () => {
      for await (const s of nc.status() as AsyncIterable<Status & { permissionContext?: { operation: string; subject: string } }>) {
        if (s.permissionContext) refusals.push(`${s.permissionContext.operation} ${s.permissionContext.subject}`);
      }
    })();
    return { nc, refusals };
  }

  const signerOf = (name: string, now?: () => number) => new CallerAssertions(callerIdentity(name, readSettings(identitySettings, testProcessEnv(name))), now);
  const agent: RequestContext = { actor: { userId: 'agent-1', organizationId: 'org-a', roles: ['ADMIN'] }, correlationId: 'c-1', causationId: 'c-1' };

  it('refuses a connection without a user, or with a wrong password', async () => {
    await expect(connect({ servers: stack.nats.url, reconnect: false })).rejects.toThrow(/Authorization Violation/);
    await expect(connect({ servers: stack.nats.url, user: 'gateway', pass: 'guess', reconnect: false })).rejects.toThrow(/Authorization Violation/);
  });

  it("does not let one process's user send another's commands, nor read what is not its own", async () => {
    const media = await as('media');
    media.nc.publish(ConferenceCommands.end, '{}');
    media.nc.subscribe('parley.deliver.>');
    const gateway = await as('gateway');
    gateway.nc.publish(ConferenceCommands.updateParticipantState, '{}');
    gateway.nc.publish(MediaCommands.release, '{}');
    gateway.nc.subscribe('_INBOX_conference.>');
    await Promise.all([media.nc.flush(), gateway.nc.flush()]);
    await waitFor(() => media.refusals.length >= 2 && gateway.refusals.length >= 3, { timeoutMs: 5000, description: 'the server refuses each' });
    expect(media.refusals.sort()).toEqual(['publish parley.conference.cmd.end', 'subscription parley.deliver.>']);
    expect(gateway.refusals.sort()).toEqual(['publish parley.conference.cmd.updateParticipantState', 'publish parley.media.cmd.release', 'subscription _INBOX_conference.>']);
  });

  it('grants JetStream stream by stream: no consumer of what a process may not read, no stream deleted or read message by message', async () => {
    const media = await as('media');
    // The SFU reads conference events, and may be their consumer ...
    const jsm = await media.nc.jetstreamManager();
    await jsm.consumers.add('PARLEY_EVENTS', { name: 'media-probe', filter_subject: 'parley.evt.conference.>', ack_policy: AckPolicy.Explicit });
    await jsm.consumers.delete('PARLEY_EVENTS', 'media-probe');
    // ... but not of an endpoint's queued events, presence's events, or the dead letters.
    media.nc.publish('$JS.API.CONSUMER.CREATE.PARLEY_DELIVERY.probe.parley.deliverq.>', '{}');
    media.nc.publish('$JS.API.CONSUMER.CREATE.PARLEY_EVENTS.probe.parley.evt.userendpoint.>', '{}');
    media.nc.publish('$JS.API.CONSUMER.CREATE.PARLEY_DEAD_LETTERS.probe', '{}');
    media.nc.publish('$JS.API.STREAM.MSG.GET.PARLEY_DEAD_LETTERS', '{"seq":1}');
    const gateway = await as('gateway');
    gateway.nc.publish('$JS.API.STREAM.DELETE.PARLEY_EVENTS', '');
    gateway.nc.publish('$JS.API.STREAM.CREATE.CAPTURE', '{"subjects":["_INBOX_conference.>"]}');
    await Promise.all([media.nc.flush(), gateway.nc.flush()]);
    await waitFor(() => media.refusals.length >= 4 && gateway.refusals.length >= 2, { timeoutMs: 5000, description: 'the server refuses each' });
    expect(media.refusals.sort()).toEqual([
      'publish $JS.API.CONSUMER.CREATE.PARLEY_DEAD_LETTERS.probe',
      'publish $JS.API.CONSUMER.CREATE.PARLEY_DELIVERY.probe.parley.deliverq.>',
      'publish $JS.API.CONSUMER.CREATE.PARLEY_EVENTS.probe.parley.evt.userendpoint.>',
      'publish $JS.API.STREAM.MSG.GET.PARLEY_DEAD_LETTERS',
    ]);
    expect(gateway.refusals.sort()).toEqual(['publish $JS.API.STREAM.CREATE.CAPTURE', 'publish $JS.API.STREAM.DELETE.PARLEY_EVENTS']);
  });

  it("takes a dead letter's replay, or a projection rebuild, from the operator only", async () => {
    const operator = await stack.connectNats();
    open.push(operator);
    const ask = async (subject: string, body: string) => JSON.parse(new TextDecoder().decode((await operator.request(subject, body, { timeout: 5000 })).data));
    // Unsigned, even on the operator's connection, it is refused.
    expect(await ask('parley.replay.presence-reactions', '{}')).toEqual({ ok: false, error: expect.stringMatching(/caller assertion refused: the request carries no Parley-Caller header/) });
    expect(await ask('parley.presence.admin.projections', '{"action":"list"}')).toEqual({ ok: false, error: expect.stringMatching(/caller assertion refused/) });
    // A service may not even publish there.
    const media = await as('media');
    media.nc.publish('parley.replay.presence-reactions', '{}');
    media.nc.publish('parley.presence.admin.projections', '{}');
    await media.nc.flush();
    await waitFor(() => media.refusals.length >= 2, { timeoutMs: 5000, description: 'both refused' });
    expect(media.refusals.sort()).toEqual(['publish parley.presence.admin.projections', 'publish parley.replay.presence-reactions']);
  });

  describe('a caller assertion is checked before any handler runs', () => {
    let operator: NatsConnection;
    beforeAll(async () => {
      operator = await stack.connectNats();
      open.push(operator);
    });

    const packet = (subject: string, data: unknown) => new TextEncoder().encode(JSON.stringify({ pattern: subject, data, id: `p-${Math.random()}` }));

    /** Sends `body` on `subject` with `assertion` in the caller header, as anyone who can publish there could. */
    async function request(subject: string, body: Uint8Array, assertion: string) {
      const h = headers();
      h.set('Parley-Caller', assertion);
      const reply = await operator.request(subject, body, { headers: h, timeout: 5000 });
      return JSON.parse(new TextDecoder().decode(reply.data)) as { response?: unknown; err?: { code: string; message: string } };
    }

    /** A request as the gateway would send it (or as `signer` signs it, or with `assertion`), optionally with another body than the one signed. */
    async function send(subject: string, data: unknown, options: { signer?: CallerAssertions; body?: unknown; assertion?: string } = {}) {
      const body = packet(subject, data);
      const assertion = options.assertion ?? (await (options.signer ?? signerOf('gateway')).sign(agent, subject, body));
      return request(subject, options.body === undefined ? body : new TextEncoder().encode(JSON.stringify(options.body)), assertion);
    }

    it('answers a good one, and refuses the same one again (replayed)', async () => {
      const body = packet(ConferenceCommands.create, {});
      const assertion = await signerOf('gateway').sign(agent, ConferenceCommands.create, body);
      expect((await request(ConferenceCommands.create, body, assertion)).response).toMatchObject({ version: 1 });
      expect((await request(ConferenceCommands.create, body, assertion)).err).toMatchObject({ code: 'UNAUTHORIZED', message: expect.stringMatching(/replayed/) });
    });

    it('refuses none, a forged one, an expired one, and one made for another message', async () => {
      expect((await send(ConferenceCommands.create, {}, { assertion: '' })).err).toMatchObject({ code: 'UNAUTHORIZED', message: expect.stringMatching(/carries no Parley-Caller header/) });
      const forger = new CallerAssertions({ ...callerIdentity('gateway', readSettings(identitySettings, testProcessEnv('media'))), name: 'gateway' });
      expect((await send(ConferenceCommands.create, {}, { signer: forger })).err).toMatchObject({ code: 'UNAUTHORIZED', message: expect.stringMatching(/signature does not match/) });
      // Signed by a process this service trusts, but that never calls it: the SFU asks nobody.
      expect((await send(ConferenceCommands.create, {}, { signer: signerOf('media') })).err).toMatchObject({ code: 'UNAUTHORIZED', message: expect.stringMatching(/media does not call conference/) });
      const late = signerOf('gateway', () => Date.now() - 60_000);
      expect((await send(ConferenceCommands.create, {}, { signer: late })).err).toMatchObject({ code: 'UNAUTHORIZED', message: expect.stringMatching(/expired/) });
      const swapped = await send(ConferenceCommands.create, {}, { body: { pattern: ConferenceCommands.create, data: { organizationId: 'org-b' }, id: 'p-swap' } });
      expect(swapped.err).toMatchObject({ code: 'UNAUTHORIZED', message: expect.stringMatching(/made for another message/) });
    });

    it('lets only the conference service command the SFU, and only the presence service judge a participant', async () => {
      const release = await send(MediaCommands.release, { conferenceId: 'c', organizationId: 'org-a', streamId: 's' });
      expect(release.err).toMatchObject({ code: 'FORBIDDEN', message: expect.stringMatching(/only the conference service may send this; it came from gateway/) });
      const verdict = await send(ConferenceCommands.updateParticipantState, { conferenceId: 'c', userEndpointId: 'e', state: 'SICK' });
      expect(verdict.err).toMatchObject({ code: 'FORBIDDEN', message: expect.stringMatching(/only the presence service may send this/) });
      // Signed by the conference service but for another organization than its caller's: refused too.
      const across = await send(MediaCommands.release, { conferenceId: 'c', organizationId: 'org-b', streamId: 's' }, { signer: signerOf('conference') });
      expect(across.err).toMatchObject({ code: 'FORBIDDEN', message: expect.stringMatching(/acts in organization org-a, not org-b/) });
      const fine = await new NatsRpcClient(operator, signerOf('conference')).request(MediaCommands.release, { conferenceId: 'c', organizationId: 'org-a', streamId: 's' }, agent);
      expect(fine).toBeNull();
    });
  });

  it('in production, a service will not start without a NATS user of its own', async () => {
    const env = { ...(await stack.envOf('conference')), PARLEY_MODE: 'production', NATS_USER: '', NATS_PASSWORD: '' };
    await expect(startService(conferenceService, { env })).rejects.toThrow(/NATS_USER and NATS_PASSWORD are not set/);
  });
});
