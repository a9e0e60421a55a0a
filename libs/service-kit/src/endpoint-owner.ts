import { ParleyError, PresenceQueries, type RequestContext, type UserEndpointView } from '@parley/contracts';
import type { NatsRpcClient } from '@parley/messaging';

/**
 * The user that registered `userEndpointId` in the caller's organization, if anyone did: the
 * presence service knows, and a service asks it where whose endpoint it is changes what the
 * caller may do (a join, a snapshot request). When presence cannot be asked the command cannot be
 * decided: 503 naming `what` needs it, never a guess that nobody registered it.
 */
export async function endpointOwner(rpc: NatsRpcClient, userEndpointId: string, ctx: RequestContext, timeoutMs: number, what: string): Promise<string | undefined> {
  try {
    const view = await rpc.request<UserEndpointView>(PresenceQueries.endpoint, { userEndpointId }, ctx, { timeoutMs });
    return view.userId;
  } catch (e) {
    if (e instanceof ParleyError && e.code === 'NOT_FOUND') return undefined;
    if (e instanceof ParleyError && (e.code === 'UNAVAILABLE' || e.code === 'TIMEOUT')) {
      throw new ParleyError('UNAVAILABLE', `The presence service did not answer (${e.message}); ${what} needs it to know whose endpoint ${userEndpointId} is`);
    }
    throw e;
  }
}
