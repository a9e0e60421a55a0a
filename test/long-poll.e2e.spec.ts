import { Stack } from './support/stack';

describe('long-poll delivery', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await Stack.start({ gateway: { longPollTimeoutMs: 5000 } });
  });
  afterAll(() => stack?.stop());

  it('a request waiting on ?v=N returns within 100 ms of the next event being committed', async () => {
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
    expect(Math.max(...lags)).toBeLessThan(100);
  });
});
