import { readFileSync } from 'node:fs';
import { WebSocket } from 'ws';
import type { TokenIssuer } from '@parley/auth';
import { call } from './load';
import { Samples } from './stats';

export interface PresenceBenchOptions {
  baseUrl: string;
  gatewayPid: number;
  issuer: TokenIssuer;
  endpoints: number;
  conferenceSize: number;
  rounds: number;
  deadline: number;
  log: (msg: string) => void;
}

export interface PresenceResult {
  options: Omit<PresenceBenchOptions, 'issuer' | 'log' | 'deadline' | 'baseUrl' | 'gatewayPid'>;
  conferences: number;
  connected: number;
  /** sendEvent to each conference → every joined socket (conference service → core NATS → gateway). */
  sendEvent: Samples;
  /** A conference command's event → relay → presence → every joined socket. */
  conferenceEvent: Samples;
  /** Deliveries expected and received over all rounds of each kind. */
  expected: number;
  received: { sendEvent: number; conferenceEvent: number };
  gatewayRssBeforeMiB: number;
  gatewayRssAfterMiB: number;
  gatewayKiBPerConnection: number;
  setupSeconds: number;
}

const rssMiB = (pid: number): number => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
};

/** Runs `task` over `items` with at most `limit` at once. */
async function pool<T>(items: T[], limit: number, task: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await task(items[i], i);
      }
    }),
  );
}

async function post(baseUrl: string, token: string, path: string, body: unknown): Promise<unknown> {
  const r = await call(baseUrl, token, 'POST', path, body);
  if (r.status >= 300) throw new Error(`POST ${path}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/**
 * N endpoints (one user each) registered, joined to conferences of `conferenceSize`, each
 * holding a WebSocket to one gateway. Per round: (a) a SERVICE sends one event to every
 * conference (conference sendEvent, qos 0), (b) a metadata update on every conference, whose
 * ConferenceMetadataUpdatedEvent the presence service pushes to the joined endpoints. Latency
 * is from the moment each conference's request was sent to each socket's receipt (same clock).
 */
export async function presenceFanout(o: PresenceBenchOptions): Promise<PresenceResult> {
  const t0 = performance.now();
  const org = 'bench-presence';
  const users = await Promise.all(Array.from({ length: o.endpoints }, async (_, i) => ({ ep: `bench-ep-${i}`, token: (await o.issuer.issue({ userId: `bench-user-${i}`, organizationId: org, roles: ['AGENT'] })).access_token })));
  const service = (await o.issuer.issue({ userId: 'bench-crm', organizationId: org, roles: ['SERVICE'] })).access_token;
  const conferences = Math.ceil(o.endpoints / o.conferenceSize);
  const conferenceIds = Array.from({ length: conferences }, (_, c) => `bench-conf-${c}-${Date.now().toString(36)}`);
  await pool(conferenceIds, 16, async (id) => void (await post(o.baseUrl, users[0].token, '/conferences/create', { conferenceId: id })));
  await pool(users, 16, async (u, i) => {
    await post(o.baseUrl, u.token, '/users/endpoints/register', { userEndpointId: u.ep, keepAliveSeconds: 3600 });
    await post(o.baseUrl, u.token, '/conferences/join', { conferenceId: conferenceIds[Math.floor(i / o.conferenceSize)], userEndpointId: u.ep });
  });
  o.log(`presence: ${o.endpoints} endpoints registered and joined to ${conferences} conferences in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  await new Promise((r) => setTimeout(r, 2000)); // the join events' pushes (to no socket yet) are done
  const before = rssMiB(o.gatewayPid);

  const arrivals = new Map<string, number[]>(); // delivery key → receipt times
  const sockets: WebSocket[] = [];
  const wsUrl = o.baseUrl.replace(/^http/, 'ws');
  await pool(users, 32, async (u) => {
    const ws = new WebSocket(`${wsUrl}/rtc-api/ws?userEndpointId=${u.ep}&access_token=${u.token}`);
    ws.on('message', (data) => {
      const at = performance.now();
      const d = JSON.parse(String(data)) as { event: { type: string; round?: string; key?: string; value?: string } };
      const key = d.event.type === 'BenchRoundSentEvent' ? d.event.round : d.event.type === 'ConferenceMetadataUpdatedEvent' && d.event.key === 'bench' ? d.event.value : undefined;
      if (key) (arrivals.get(key) ?? arrivals.set(key, []).get(key)!).push(at);
    });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    sockets.push(ws);
  });
  await new Promise((r) => setTimeout(r, 2000));
  const after = rssMiB(o.gatewayPid);
  const setupSeconds = (performance.now() - t0) / 1000;
  o.log(`presence: ${sockets.length} sockets open; gateway RSS ${before.toFixed(1)} → ${after.toFixed(1)} MiB`);

  const sendEvent = new Samples();
  const conferenceEvent = new Samples();
  const received = { sendEvent: 0, conferenceEvent: 0 };
  const round = async (kind: 'sendEvent' | 'conferenceEvent', r: number) => {
    const starts = new Map<string, number>();
    const keys = conferenceIds.map((_, c) => `${kind}-${r}-${c}`);
    await Promise.all(
      conferenceIds.map(async (conferenceId, c) => {
        starts.set(keys[c], performance.now());
        if (kind === 'sendEvent') await post(o.baseUrl, service, '/conferences/sendEvent', { conferenceId, event: { type: 'BenchRoundSentEvent', timestamp: new Date().toISOString(), round: keys[c] } });
        else await post(o.baseUrl, users[c * o.conferenceSize].token, '/conferences/updateMetadata', { conferenceId, userEndpointId: users[c * o.conferenceSize].ep, operation: 'SET', key: 'bench', value: keys[c] });
      }),
    );
    const expected = o.endpoints;
    const deadline = performance.now() + 10_000;
    const count = () => keys.reduce((n, k) => n + (arrivals.get(k)?.length ?? 0), 0);
    while (count() < expected && performance.now() < deadline) await new Promise((res) => setTimeout(res, 20));
    for (const k of keys) for (const at of arrivals.get(k) ?? []) (kind === 'sendEvent' ? sendEvent : conferenceEvent).add(at - starts.get(k)!);
    received[kind] += count();
  };
  for (let r = 0; r < o.rounds && performance.now() < o.deadline; r++) {
    await round('sendEvent', r);
    await round('conferenceEvent', r);
  }
  o.log(`presence: sendEvent p50 ${sendEvent.percentile(50).toFixed(1)} p99 ${sendEvent.percentile(99).toFixed(1)} ms (${received.sendEvent} deliveries); conference event p50 ${conferenceEvent.percentile(50).toFixed(1)} p99 ${conferenceEvent.percentile(99).toFixed(1)} ms (${received.conferenceEvent})`);
  for (const ws of sockets) ws.terminate();
  return {
    options: { endpoints: o.endpoints, conferenceSize: o.conferenceSize, rounds: o.rounds },
    conferences,
    connected: sockets.length,
    sendEvent,
    conferenceEvent,
    expected: o.endpoints * o.rounds,
    received,
    gatewayRssBeforeMiB: before,
    gatewayRssAfterMiB: after,
    gatewayKiBPerConnection: ((after - before) * 1024) / sockets.length,
    setupSeconds,
  };
}
