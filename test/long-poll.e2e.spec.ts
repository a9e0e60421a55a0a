import { Stack } from './support/stack';

describe('long-poll delivery', () => {
  let stack: Stack;
  beforeAll(async () => {
    // The relay's fallback poll is a minute and a parked request's own timeout 10 s: only the
    // commit's kick of the relay, and the relay's publish waking the parked request, can answer
    // within a round. A polling path anywhere would show as a missing event, not a slow one.
    stack = await Stack.start({ gateway: { longPollTimeoutMs: 10_000 }, conference: { relayPollMs: 60_000 } });
  });
  afterAll(() => stack?.stop());

  it('a request waiting on ?v=N is answered by the next commit, within 100 ms (p90 of 20 rounds)', async () => {
    const agent = await stack.api('agent-1', 'org-a', ['AGENT']);
    const { body } = await agent.post('/conferences/create', {});
    const lags: number[] = [];
    for (let i = 0; i < 20; i++) {
      const v = i + 1;
      const waiting = agent.get(`/conferences/${body.id}/events?v=${v}`).then((r) => ({ r, at: Date.now() }));
      await new Promise((r) => setTimeout(r, 50)); // the request is parked
      const sent = Date.now();
      const join = await agent.post('/conferences/join', { conferenceId: body.id, userEndpointId: `ep-${i}` });
      expect(join.status).toBe(200);
      const { r, at } = await waiting;
      expect(r.body.map((e: { conferenceVersion: number }) => e.conferenceVersion)).toEqual([v + 1]);
      // The commit happens after the command was sent and after the conference service stamped
      // the event's time (same machine, same clock), so (answer - the later of the two) bounds
      // (answer - commit) from above, without the HTTP and NATS path of the command itself.
      lags.push(at - Math.max(sent, Date.parse(r.body[0].timestamp)));
    }
    // The 90th percentile, not the maximum: this suite shares two cores with browsers, SFU
    // workers and databases, and one round in twenty caught by a scheduling stall of the host
    // (seen: 506 ms in CI at 34 % CPU steal) says nothing about the delivery path. The bench
    // reports the real distribution (BENCHMARKS.md, long-poll).
    const p90 = [...lags].sort((a, b) => a - b)[Math.ceil(lags.length * 0.9) - 1];
    expect(p90).toBeLessThan(100);
  });
});
