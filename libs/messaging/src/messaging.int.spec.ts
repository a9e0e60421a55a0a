import 'reflect-metadata';
import { Controller } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, MessagePattern, type MicroserviceOptions, NatsContext, Payload } from '@nestjs/microservices';
import { type NatsConnection, connect } from 'nats';
import { DEAD_LETTER_STREAM, ParleyError, type RequestContext, replaySubject } from '@parley/contracts';
import { type NatsServerHandle, startNats, waitFor } from '@parley/testing';
import { type ConsumedMessage, DeadLetterHeaders, DurableConsumer } from './durable-consumer';
import { provisionStreams } from './jetstream-streams';
import { CallerAssertions, callerIdentity, identityEnvironments, identitySettings, operatorHeaders } from './caller-assertion';
import { natsTransport } from './nats-transport';
import { NatsRpcClient, natsServers, waitUntilAnswered } from './rpc-client';
import { readSettings } from './settings';
import { RpcErrorFilter, requestContextOf } from './rpc-server';

const ctx: RequestContext = { actor: { userId: 'u1', organizationId: 'o1', roles: ['AGENT', 'SERVICE'] }, correlationId: 'corr-1', causationId: 'cause-1' };

@Controller()
class EchoController {
  static calls = 0;
  @MessagePattern('test.echo')
  echo(@Payload() data: unknown, @Ctx() nats: NatsContext) {
    EchoController.calls++;
    return { data, ctx: requestContextOf(nats) };
  }
  @MessagePattern('test.fail')
  fail(): never {
    throw new ParleyError('CONFLICT', 'it clashed', { with: 'x' });
  }
  @MessagePattern('test.crash')
  crash(): never {
    throw new Error('secret internals');
  }
  @MessagePattern('test.huge')
  huge() {
    return 'x'.repeat(1_100_000); // over NATS's 1 MB max_payload
  }
  @MessagePattern('test.slow')
  async slow() {
    await new Promise((r) => setTimeout(r, 500));
    return 'late';
  }
}

describe('messaging over a real nats-server', () => {
  let server: NatsServerHandle;
  let nc: NatsConnection;
  let app: Awaited<ReturnType<typeof NestFactory.createMicroservice>>;
  let rpc: NatsRpcClient;

  const identities = identityEnvironments(['client', 'test', 'operator']);
  /** `test` (the service here) takes the callers `client` signs; `operator` signs replays. */
  const assertionsOf = (name: 'client' | 'test' | 'operator') => new CallerAssertions(callerIdentity(name, readSettings(identitySettings, identities[name]), name === 'test' ? ['client'] : []));

  beforeAll(async () => {
    server = await startNats();
    nc = await connect({ servers: server.url });
    app = await NestFactory.createMicroservice<MicroserviceOptions>({ module: class {}, controllers: [EchoController] } as never, {
      ...natsTransport({ natsUrl: server.url }, 'test', assertionsOf('test')),
      logger: false,
    });
    app.useGlobalFilters(new RpcErrorFilter());
    await app.listen();
    rpc = new NatsRpcClient(nc, assertionsOf('client'), { timeoutMs: 200 });
    await waitUntilAnswered(rpc, 'test.echo', ctx);
  });
  afterAll(async () => {
    await app?.close();
    await nc?.drain();
    await server?.stop();
  });

  it('carries the payload and the caller (its signed assertion) to a Nest handler and back', async () => {
    const res = await rpc.request<{ data: unknown; ctx: RequestContext }>('test.echo', { a: 1 }, ctx);
    expect(res).toEqual({ data: { a: 1 }, ctx });
  });
  it("forwards the caller's transaction id only from a client made to (the gateway's); a service's own requests carry none", async () => {
    const withTx = { ...ctx, transactionId: 'tx-42' };
    expect((await rpc.request<{ ctx: RequestContext }>('test.echo', {}, withTx)).ctx).toEqual(ctx);
    const gatewayLike = new NatsRpcClient(nc, assertionsOf('client'), { timeoutMs: 2000, forwardTransactionIds: true });
    expect((await gatewayLike.request<{ ctx: RequestContext }>('test.echo', {}, withTx)).ctx).toEqual(withTx);
  });
  it('answers a request without a caller, or one vouched for by a process it does not trust, UNAUTHORIZED, and runs no handler', async () => {
    const before = EchoController.calls;
    const unsigned = await nc.request('test.echo', JSON.stringify({ pattern: 'test.echo', data: {}, id: 'x1' }), { timeout: 2000 });
    expect(JSON.parse(new TextDecoder().decode(unsigned.data))).toMatchObject({ id: 'x1', err: { code: 'UNAUTHORIZED', message: expect.stringMatching(/carries no Parley-Caller header/) } });
    const stranger = new CallerAssertions(callerIdentity('client', readSettings(identitySettings, identityEnvironments(['client']).client)));
    await expect(new NatsRpcClient(nc, stranger, { timeoutMs: 2000 }).request('test.echo', {}, ctx)).rejects.toMatchObject({ code: 'UNAUTHORIZED', message: /signature does not match/ });
    expect(EchoController.calls).toBe(before);
  });
  it("turns the service's ParleyError into the same ParleyError", async () => {
    await expect(rpc.request('test.fail', {}, ctx)).rejects.toMatchObject({ code: 'CONFLICT', message: 'it clashed', details: { with: 'x' } });
  });
  it('hides an unexpected error behind INTERNAL', async () => {
    const err = (await rpc.request('test.crash', {}, ctx).catch((e: unknown) => e)) as ParleyError;
    expect(err).toBeInstanceOf(ParleyError);
    expect(err.code).toBe('INTERNAL');
    expect(err.message).not.toMatch(/secret internals/);
  });
  it('answers a reply too heavy for NATS with an error instead of crashing the service', async () => {
    const err = (await rpc.request('test.huge', {}, ctx, { timeoutMs: 5000 }).catch((e: unknown) => e)) as ParleyError;
    expect(err).toMatchObject({ code: 'INTERNAL', message: expect.stringMatching(/over the 983040 bytes a reply may weigh/) });
    // Still serving.
    expect(await rpc.request('test.echo', { b: 2 }, ctx)).toMatchObject({ data: { b: 2 } });
  });
  it('answers UNAVAILABLE at once when nobody listens, TIMEOUT when the service is too slow', async () => {
    const t0 = Date.now();
    await expect(rpc.request('test.nobody', {}, ctx, { timeoutMs: 5000 })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(Date.now() - t0).toBeLessThan(5000);
    await expect(rpc.request('test.slow', {}, ctx, { timeoutMs: 100 })).rejects.toMatchObject({ code: 'TIMEOUT' });
  });
  it('splits a comma-separated NATS_URL into servers', () => {
    expect(natsServers('nats://a:4222, nats://b:4222,')).toEqual(['nats://a:4222', 'nats://b:4222']);
  });

  it('a durable consumer acks what its handler took, redelivers what failed, stores a poison message in the dead-letter stream with its error, and takes it back on replay', async () => {
    const jsm = await nc.jetstreamManager();
    await provisionStreams(jsm, { replicas: 1 });
    const js = nc.jetstream();
    const seen: string[] = [];
    let flaky = 0;
    let poisonFixed = false;
    const n = (m: ConsumedMessage) => JSON.parse(new TextDecoder().decode(m.data)).n as string;
    const consumer = new DurableConsumer({
      nc,
      assertions: assertionsOf('test'),
      durable: 'test-consumer',
      filterSubject: 'parley.evt.test.>',
      maxDeliver: 3,
      backoffMs: [10],
      handle: async (m) => {
        if (n(m) === 'poison' && !poisonFixed) throw new Error('never works');
        if (n(m) === 'flaky' && flaky++ < 2) throw new Error('not yet');
        seen.push(n(m));
      },
    });
    await consumer.start();
    for (const x of ['one', 'flaky', 'poison', 'two']) await js.publish(`parley.evt.test.s1.${x}`, JSON.stringify({ n: x }));
    const deadLetters = async () => (await jsm.streams.info(DEAD_LETTER_STREAM)).state.messages;
    await waitFor(async () => seen.length === 3 && (await deadLetters()) === 1, { description: 'three handled, one dead-lettered' });
    expect(seen.sort()).toEqual(['flaky', 'one', 'two']);
    expect(flaky).toBe(3);

    // Stored, with where it came from and why it failed.
    const dead = await jsm.streams.getMessage(DEAD_LETTER_STREAM, { last_by_subj: 'parley.dlq.test-consumer' });
    expect(JSON.parse(new TextDecoder().decode(dead.data))).toEqual({ n: 'poison' });
    expect(dead.header.get(DeadLetterHeaders.error)).toBe('never works');
    expect(dead.header.get(DeadLetterHeaders.subject)).toBe('parley.evt.test.s1.poison');
    expect(dead.header.get(DeadLetterHeaders.deliveries)).toBe('3');

    // Only the operator may hand it back: a replay it did not sign is refused and handles nothing.
    const unsigned = JSON.parse(new TextDecoder().decode((await nc.request(replaySubject('test-consumer'), dead.data, { headers: dead.header, timeout: 5000 })).data));
    expect(unsigned).toEqual({ ok: false, error: expect.stringMatching(/caller assertion refused/) });
    const byClient = await operatorHeaders(assertionsOf('client'), replaySubject('test-consumer'), dead.data, dead.header);
    expect(JSON.parse(new TextDecoder().decode((await nc.request(replaySubject('test-consumer'), dead.data, { headers: byClient, timeout: 5000 })).data))).toEqual({
      ok: false,
      error: expect.stringMatching(/client does not call test/),
    });
    // Replayed while still broken: the same error answers, and nothing was handled.
    const replay = async () =>
      JSON.parse(
        new TextDecoder().decode(
          (await nc.request(replaySubject('test-consumer'), dead.data, { headers: await operatorHeaders(assertionsOf('operator'), replaySubject('test-consumer'), dead.data, dead.header), timeout: 5000 })).data,
        ),
      );
    expect(await replay()).toEqual({ ok: false, error: 'never works' });
    poisonFixed = true;
    expect(await replay()).toEqual({ ok: true });
    expect(seen.filter((x) => x === 'poison')).toEqual(['poison']);
    await consumer.stop();

    // Durable: a new consumer instance resumes after what was acknowledged.
    await js.publish('parley.evt.test.s1.three', JSON.stringify({ n: 'three' }));
    const again: string[] = [];
    const resumed = new DurableConsumer({ nc, assertions: assertionsOf('test'), durable: 'test-consumer', filterSubject: 'parley.evt.test.>', handle: async (m) => void again.push(n(m)) });
    await resumed.start();
    await waitFor(() => again.includes('three'), { description: 'the new message' });
    expect(again).toEqual(['three']);
    await resumed.stop();
  });

  it('in batches: what arrives while a batch is handled forms the next one (at most maxBatch), in order; a failed batch is handled message by message, the poison one dead-lettered', async () => {
    const jsm = await nc.jetstreamManager();
    await provisionStreams(jsm, { replicas: 1 });
    const js = nc.jetstream();
    const n = (m: ConsumedMessage) => JSON.parse(new TextDecoder().decode(m.data)).n as string;
    const names = Array.from({ length: 40 }, (_, i) => (i === 17 ? 'poison' : `m${i}`));
    for (const x of names) await js.publish(`parley.evt.batch.s1.${x}`, JSON.stringify({ n: x }));
    const deadBefore = (await jsm.streams.info(DEAD_LETTER_STREAM)).state.messages;
    const seen: string[] = [];
    const batches: string[][] = [];
    const consumer = new DurableConsumer({
      nc,
      assertions: assertionsOf('test'),
      durable: 'test-batches',
      filterSubject: 'parley.evt.batch.>',
      maxDeliver: 2,
      backoffMs: [10],
      maxBatch: 8,
      handle: async (m) => {
        if (n(m) === 'poison') throw new Error('never works');
        seen.push(n(m));
      },
      handleBatch: async (msgs) => {
        batches.push(msgs.map(n));
        await new Promise((r) => setTimeout(r, 20)); // a transaction's time: the next messages gather meanwhile
        if (msgs.some((m) => n(m) === 'poison')) throw new Error('the batch holds a poison message');
        seen.push(...msgs.map(n));
      },
    });
    await consumer.start();
    await waitFor(async () => seen.length === 39 && (await jsm.streams.info(DEAD_LETTER_STREAM)).state.messages === deadBefore + 1, { description: 'all but the poison handled, it dead-lettered' });
    await consumer.stop();
    expect(seen).toEqual(names.filter((x) => x !== 'poison'));
    expect(Math.max(...batches.map((b) => b.length))).toBe(8);
    const poisonBatch = batches.find((b) => b.includes('poison'));
    expect(poisonBatch?.length).toBeGreaterThan(1); // its companions were handled alone, once
    const dead = await jsm.streams.getMessage(DEAD_LETTER_STREAM, { last_by_subj: 'parley.dlq.test-batches' });
    expect(dead.header.get(DeadLetterHeaders.error)).toBe('never works');
  });
});
