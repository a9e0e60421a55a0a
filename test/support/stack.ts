import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AuthConfig, TokenIssuer, authConfigFromEnv } from '@parley/auth';
import { type NatsServerHandle, type PostgresHandle, startNats, startPostgres } from '@parley/testing';
import { type RunningConferenceService, conferenceConfigFromEnv, startConferenceService, type ConferenceConfig } from '../../apps/conference/src';
import { type RunningGateway, gatewayConfigFromEnv, startGateway, type GatewayConfig } from '../../apps/gateway/src';
import type { MediaConfig, RunningMediaService } from '../../apps/media/src';
import { type Clock, type PresenceConfig, type RunningPresenceService, presenceConfigFromEnv, startPresenceService } from '../../apps/presence/src';
import { mediasoupWorkerBin } from '@parley/testing';

export interface StackOptions {
  /** A throw-away PostgreSQL cluster instead of embedded PGlite. */
  postgres?: boolean;
  gateway?: Partial<GatewayConfig>;
  conference?: Partial<ConferenceConfig> | false;
  /** The media service (mediasoup SFU) too. */
  media?: Partial<MediaConfig>;
  /** The presence service too, reading time from `clock` when given (tests move it). */
  presence?: Partial<PresenceConfig> & { clock?: Clock };
}

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** A client of the gateway for one bearer token. */
export class Api {
  constructor(
    readonly baseUrl: string,
    readonly token?: string,
  ) {}

  async request<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse<T>> {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      /* not JSON */
    }
    return { status: res.status, body: parsed as T, headers: res.headers };
  }

  post<T = any>(path: string, body?: unknown, headers?: Record<string, string>) {
    return this.request<T>('POST', `/rtc-api${path}`, body, headers);
  }
  get<T = any>(path: string, headers?: Record<string, string>) {
    return this.request<T>('GET', `/rtc-api${path}`, undefined, headers);
  }
}

/**
 * The whole system on real parts: nats-server with JetStream, PGlite or a throw-away
 * PostgreSQL, the conference service and the gateway (in this process; tests that need a
 * separate process spawn one), plus tokens signed with the stack's secret.
 */
export class Stack {
  conference?: RunningConferenceService;
  media?: RunningMediaService;
  presence?: RunningPresenceService;
  presenceConfig?: PresenceConfig;
  private constructor(
    readonly nats: NatsServerHandle,
    readonly pg: PostgresHandle | undefined,
    readonly conferenceConfig: ConferenceConfig,
    readonly gateway: RunningGateway,
    readonly auth: AuthConfig,
    private readonly dataDir: string,
  ) {}

  static async start(options: StackOptions = {}): Promise<Stack> {
    const nats = await startNats();
    const pg = options.postgres ? await startPostgres() : undefined;
    const dataDir = mkdtempSync(join(tmpdir(), 'parley-stack-'));
    const conferenceConfig: ConferenceConfig = {
      ...conferenceConfigFromEnv({}),
      natsUrl: nats.url,
      dataDir: join(dataDir, 'conference'),
      databaseUrl: pg ? await pg.createDatabase() : undefined,
      mediaTimeoutMs: 2000,
      logLevel: 'warn',
      ...(options.conference || {}),
    };
    const auth = authConfigFromEnv({ JWT_SECRET: 'test-secret-0123456789abcdef0123456789', OAUTH_CLIENTS: 'crm:crm-secret:org-a:SERVICE' });
    const conference = options.conference === false ? undefined : await startConferenceService(conferenceConfig);
    const gateway = await startGateway({ ...gatewayConfigFromEnv({}), host: '127.0.0.1', port: 0, natsUrl: nats.url, logLevel: 'warn', ...options.gateway }, auth);
    const stack = new Stack(nats, pg, conferenceConfig, gateway, auth, dataDir);
    stack.conference = conference;
    if (options.media) {
      // mediasoup reads MEDIASOUP_WORKER_BIN when it is first loaded.
      process.env.MEDIASOUP_WORKER_BIN = mediasoupWorkerBin();
      const { mediaConfigFromEnv, startMediaService } = await import('../../apps/media/src');
      stack.media = await startMediaService({ ...mediaConfigFromEnv({}), natsUrl: nats.url, workers: 1, logLevel: 'warn', ...options.media });
    }
    if (options.presence) await stack.startPresence(options.presence);
    return stack;
  }

  /** (Re)starts the presence service on the stack's NATS and its own database (kept across restarts). */
  async startPresence(options: Partial<PresenceConfig> & { clock?: Clock } = {}): Promise<RunningPresenceService> {
    const { clock, ...config } = options;
    this.presenceConfig ??= {
      ...presenceConfigFromEnv({}),
      natsUrl: this.nats.url,
      dataDir: join(this.dataDir, 'presence'),
      databaseUrl: this.pg ? await this.pg.createDatabase() : undefined,
      tickMs: 50,
      rpcTimeoutMs: 5000,
      logLevel: 'warn',
      ...config,
    };
    this.presence = await startPresenceService(this.presenceConfig, clock);
    return this.presence;
  }

  async token(userId: string, organizationId: string, roles: string[]): Promise<string> {
    return (await new TokenIssuer(this.auth).issue({ userId, organizationId, roles })).access_token;
  }

  async api(userId: string, organizationId: string, roles: string[] = ['AGENT']): Promise<Api> {
    return new Api(this.gateway.url, await this.token(userId, organizationId, roles));
  }

  anonymous(): Api {
    return new Api(this.gateway.url);
  }

  /** Events in the stores of the services running (a rejected request must not change it). */
  async eventCount(): Promise<number> {
    const counts = await Promise.all(
      [this.conference, this.presence]
        .filter((service) => service !== undefined)
        .map(async (service) => Number((await service.store.transaction((sql) => sql.query<{ n: string | number }>('select count(*) as n from events'))).rows[0].n)),
    );
    return counts.reduce((a, b) => a + b, 0);
  }

  async stop(): Promise<void> {
    await this.gateway.close().catch(() => undefined);
    await this.media?.close().catch(() => undefined);
    await this.presence?.close().catch(() => undefined);
    await this.conference?.close().catch(() => undefined);
    await this.pg?.stop();
    await this.nats.stop();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
