import { Inject, Injectable } from '@nestjs/common';
import { type Actor, QUOTA_RETRY_AFTER_SECONDS, quotaExceeded } from '@parley/contracts';
import type { GatewayConfig } from './config';
import { GATEWAY_CONFIG } from './tokens';

/** Counts what each user holds on this gateway of one kind of thing, against a limit. */
export class PerUserQuota {
  private readonly held = new Map<string, number>();

  constructor(
    /** The quota's name in the 429's details (e.g. "parkedPolls"). */
    readonly name: string,
    readonly limit: number,
    /** What is counted, in a sentence: "long polls waiting". */
    private readonly what: string,
    private readonly retryAfterSeconds: number,
  ) {}

  /** Takes one place for the actor's user, or throws 429 naming the quota; the function returned gives it back (once). */
  acquire(actor: Actor): () => void {
    const key = `${actor.organizationId}\u0000${actor.userId}`;
    const n = this.held.get(key) ?? 0;
    if (n >= this.limit) {
      throw quotaExceeded(`User ${actor.userId} has ${this.limit} ${this.what} on this gateway, the most one user may`, this.name, this.limit, this.retryAfterSeconds);
    }
    this.held.set(key, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.held.get(key) ?? 1) - 1;
      if (left > 0) this.held.set(key, left);
      else this.held.delete(key);
    };
  }

  /** Runs `work` holding one of the actor's places (429 when there is none), given back when it ends. */
  async hold<T>(actor: Actor, work: () => Promise<T>): Promise<T> {
    const release = this.acquire(actor);
    try {
      return await work();
    } finally {
      release();
    }
  }

  /** Places held by all users. */
  get total(): number {
    let n = 0;
    for (const v of this.held.values()) n += v;
    return n;
  }
}

/** The per-user quotas of this gateway (QUOTA_USER_*). */
@Injectable()
export class UserQuotas {
  readonly parkedPolls: PerUserQuota;
  readonly pollSessions: PerUserQuota;
  readonly sockets: PerUserQuota;
  readonly uploads: PerUserQuota;

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig) {
    const { quotas } = config;
    // A parked poll frees itself within the long-poll timeout.
    this.parkedPolls = new PerUserQuota('parkedPolls', quotas.parkedPolls, 'long polls waiting', Math.max(1, Math.ceil(config.longPollTimeoutMs / 1000)));
    this.pollSessions = new PerUserQuota('pollSessions', quotas.pollSessions, 'endpoint long-poll sessions', QUOTA_RETRY_AFTER_SECONDS);
    this.sockets = new PerUserQuota('sockets', quotas.sockets, 'WebSocket push channels open', QUOTA_RETRY_AFTER_SECONDS);
    this.uploads = new PerUserQuota('uploads', quotas.uploads, 'uploads under way', QUOTA_RETRY_AFTER_SECONDS);
  }
}
