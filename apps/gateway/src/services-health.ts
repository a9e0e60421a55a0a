import { Inject, Injectable } from '@nestjs/common';
import { PARLEY_SERVICES, type ServiceHealth, healthSubject } from '@parley/contracts';
import { type NatsRpcClient, serviceContext } from '@parley/messaging';
import { RPC_CLIENT } from './tokens';

/** The services behind the gateway (PARLEY_SERVICES), by the subject their health is asked on. */
const SERVICES: Record<string, string> = Object.fromEntries(PARLEY_SERVICES.filter((s) => s.kind === 'service').map((s) => [s.name, healthSubject(s.name)]));

/** How long /health waits for a service before calling it unavailable. */
const HEALTH_TIMEOUT_MS = 2000;


export type ServiceStatus = ServiceHealth | { status: 'unavailable'; service: string; error: string };

/** Asks every service for its health (what /health and /metrics report). */
@Injectable()
export class ServicesHealth {
  constructor(@Inject(RPC_CLIENT) private readonly rpc: NatsRpcClient) {}

  async check(): Promise<Record<string, ServiceStatus>> {
    const entries = await Promise.all(
      Object.entries(SERVICES).map(async ([service, subject]): Promise<[string, ServiceStatus]> => {
        try {
          return [service, await this.rpc.request<ServiceHealth>(subject, {}, serviceContext('gateway'), { timeoutMs: HEALTH_TIMEOUT_MS })];
        } catch (e) {
          return [service, { status: 'unavailable', service, error: e instanceof Error ? e.message : String(e) }];
        }
      }),
    );
    return Object.fromEntries(entries);
  }
}
