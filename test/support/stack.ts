import { PARLEY_SERVICES } from '@parley/contracts';
import { type NatsConnection, connect } from 'nats';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AuthConfig, TokenIssuer, authConfigFromEnv } from '@parley/auth';
import type { Clock, RunningService, ServiceDefinition } from '@parley/service-kit';
import { startService } from '@parley/service-kit';
import { type NatsServerHandle, type PostgresHandle, REPOSITORY_ROOT, mediasoupWorkerBin, startNats, startPostgres } from '@parley/testing';
import { type RunningGateway, gatewayConfigFromEnv, startGateway, type GatewayConfig } from '../../apps/gateway/src';
import type { Sfu } from '../../apps/media/src';
import { TEST_SECRETS, natsWithUsers, testProcessEnv } from './secrets';

/** How the stack runs one kit service: settings as environment variables (their names are the documented ones), and a clock. */
export interface ServiceOptions {
  env?: Record<string, string>;
  clock?: Clock;
}

export interface StackOptions {
  /** A throw-away PostgreSQL cluster instead of embedded PGlite. */
  postgres?: boolean;
  /** The gateway's settings beyond testGatewayConfig's (development mode unless `mode` says otherwise). */
  gateway?: Partial<GatewayConfig>;
  /** The conference service runs unless this is false. */
  conference?: ServiceOptions | false;
  /** The media service (mediasoup SFU) too. */
  media?: ServiceOptions;
  /** The presence service too. */
  presence?: ServiceOptions;
  /** The interaction service too. */
  interaction?: ServiceOptions;
  /** The snapshot service too (its blobs and the gateway's are the stack's DATA_DIR/blobs). */
  snapshot?: ServiceOptions;
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
        // A FormData body sets its own multipart content type (with the boundary).
        ...(body !== undefined && !(body instanceof FormData) ? { 'content-type': 'application/json' } : {}),
        ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' || body instanceof FormData ? body : JSON.stringify(body),
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
  /** A multipart/form-data POST: the fields in order, then the file. */
  upload<T = any>(path: string, fields: Record<string, string>, file: UploadFile, headers?: Record<string, string>) {
    return this.request<T>('POST', `/rtc-api${path}`, formOf(fields, file), headers);
  }
}

/** A file part of a multipart request. */
export interface UploadFile {
  field: string;
  bytes: Uint8Array;
  filename?: string;
  /** The type the client declares (the server goes by the content). */
  type?: string;
}

/** The multipart body of an upload: the fields in order, then the file. */
export function formOf(fields: Record<string, string>, file: UploadFile): FormData {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  form.append(file.field, new Blob([file.bytes], { type: file.type ?? 'application/octet-stream' }), file.filename ?? 'upload');
  return form;
}

/**
 * The settings of a gateway a test starts: development mode (PARLEY_MODE=development, as `npm
 * start` runs), free ports for HTTP and the metrics listener, quiet logs, on the given NATS.
 * A test of production's behaviour says `mode: 'production'` in `overrides`.
 */
export function testGatewayConfig(natsUrl: string, overrides: Partial<GatewayConfig> = {}): GatewayConfig {
  return { ...gatewayConfigFromEnv({ PARLEY_MODE: 'development', ...testProcessEnv('gateway') }), host: '127.0.0.1', port: 0, metricsPort: 0, natsUrl, logLevel: 'warn', ...overrides };
}

/**
 * The whole system on real parts: nats-server with JetStream, PGlite or a throw-away
 * PostgreSQL, the services of PARLEY_SERVICES that the options ask for (in this process, started
 * as their main would start them: startService with their definition and environment), the
 * gateway, plus tokens signed with the stack's secret.
 */
export class Stack {
  readonly services = new Map<string, RunningService>();
  /** Each service's environment, kept across restarts (its database too). */
  private readonly envs = new Map<string, Record<string, string>>();
  private constructor(
    readonly nats: NatsServerHandle,
    readonly pg: PostgresHandle | undefined,
    readonly gateway: RunningGateway,
    readonly auth: AuthConfig,
    readonly dataDir: string,
  ) {}

  static async start(options: StackOptions = {}): Promise<Stack> {
    const nats = await startNats(natsWithUsers());
    const pg = options.postgres ? await startPostgres() : undefined;
    const dataDir = mkdtempSync(join(tmpdir(), 'parley-stack-'));
    // Two OAuth clients: a CRM of org-a, and a reseller's integration that may act for org-b too.
    const auth = authConfigFromEnv({ JWT_SECRET: TEST_SECRETS.jwtSecret, OAUTH_CLIENTS: 'crm:crm-secret:org-a:SERVICE,reseller:reseller-secret:org-a+org-b:SERVICE' });
    const gateway = await startGateway(testGatewayConfig(nats.url, { dataDir, ...options.gateway }), auth);
    const stack = new Stack(nats, pg, gateway, auth, dataDir);
    const wanted: Record<string, ServiceOptions | false | undefined> = { conference: options.conference ?? {}, presence: options.presence, media: options.media, interaction: options.interaction, snapshot: options.snapshot };
    for (const entry of PARLEY_SERVICES) {
      const o = wanted[entry.name];
      if (entry.kind === 'service' && o) await stack.startService(entry.name, o);
    }
    return stack;
  }

  /** The environment the stack gives a service: development mode, its NATS, its own database, quiet logs, MEDIA_TIMEOUT_MS short. */
  async envOf(name: string, extra: Record<string, string> = {}): Promise<Record<string, string>> {
    let env = this.envs.get(name);
    if (!env) {
      const entry = PARLEY_SERVICES.find((s) => s.name === name);
      env = {
        PARLEY_MODE: 'development',
        NATS_URL: this.nats.url,
        DATA_DIR: this.dataDir,
        DATABASE_URL: this.pg && entry?.eventStore ? await this.pg.createDatabase() : '',
        LOG_LEVEL: 'warn',
        MEDIA_TIMEOUT_MS: '2000',
        PRESENCE_TICK_MS: '50',
        CONFERENCE_TIMEOUT_MS: '5000',
        MEDIA_WORKERS: '1',
        ...testProcessEnv(name),
      };
      this.envs.set(name, env);
    }
    Object.assign(env, extra);
    return env;
  }

  /** (Re)starts a service of PARLEY_SERVICES on the stack's NATS and its own database (kept across restarts). */
  async startService(name: string, options: ServiceOptions = {}): Promise<RunningService> {
    const entry = PARLEY_SERVICES.find((s) => s.name === name && s.kind === 'service');
    if (!entry) throw new Error(`PARLEY_SERVICES has no kit service named ${name}`);
    // mediasoup reads MEDIASOUP_WORKER_BIN when it is first loaded.
    if (entry.needs?.includes('mediasoup-worker')) process.env.MEDIASOUP_WORKER_BIN = mediasoupWorkerBin();
    const mod = (await import(join(REPOSITORY_ROOT, entry.app, 'src'))) as Record<string, ServiceDefinition>;
    const definition = mod[`${name}Service`];
    const running = await startService(definition, { env: await this.envOf(name, options.env), clock: options.clock });
    this.services.set(name, running);
    return running;
  }

  async stopService(name: string): Promise<void> {
    await this.services.get(name)?.close();
    this.services.delete(name);
  }

  get conference(): RunningService | undefined {
    return this.services.get('conference');
  }
  get presence(): RunningService | undefined {
    return this.services.get('presence');
  }
  get media(): RunningService | undefined {
    return this.services.get('media');
  }
  /** The media service's SFU. */
  get sfu(): Sfu {
    const media = this.media;
    if (!media) throw new Error('this stack runs no media service');
    return media.get<Sfu>(require(join(REPOSITORY_ROOT, 'apps/media/src')).Sfu);
  }

  /** One pass of the presence service's deadline scheduler now (tests that move the clock use it instead of waiting for a tick). */
  async tickPresence(): Promise<void> {
    const presence = this.presence;
    if (!presence) throw new Error('this stack runs no presence service');
    const { DeadlineScheduler } = await import(join(REPOSITORY_ROOT, 'apps/presence/src'));
    await presence.get<{ tick(): Promise<void> }>(DeadlineScheduler).tick();
  }

  async token(userId: string, organizationId: string, roles: string[], options: { actsFor?: string[] } = {}): Promise<string> {
    return (await new TokenIssuer(this.auth).issue({ userId, organizationId, roles, ...options })).access_token;
  }

  async api(userId: string, organizationId: string, roles: string[] = ['AGENT']): Promise<Api> {
    return new Api(this.gateway.url, await this.token(userId, organizationId, roles));
  }

  /** A connection to the stack's NATS as the operator (the one user that may publish and read anything). */
  connectNats(): Promise<NatsConnection> {
    return connect({ servers: this.nats.url, ...this.nats.credentials, name: 'parley-test' });
  }

  anonymous(): Api {
    return new Api(this.gateway.url);
  }

  /** Events in the stores of the services running (a rejected request must not change it). */
  async eventCount(): Promise<number> {
    const counts = await Promise.all(
      [...this.services.entries()]
        .filter(([name]) => PARLEY_SERVICES.find((s) => s.name === name)?.eventStore)
        .map(async ([, service]) => Number((await service.kit.store.transaction((sql) => sql.query<{ n: string | number }>('select count(*) as n from events'))).rows[0].n)),
    );
    return counts.reduce((a, b) => a + b, 0);
  }

  async stop(): Promise<void> {
    await this.gateway.close().catch(() => undefined);
    for (const name of [...this.services.keys()].reverse()) await this.stopService(name).catch(() => undefined);
    await this.pg?.stop();
    await this.nats.stop();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
