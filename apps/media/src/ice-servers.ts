import { createHmac } from 'node:crypto';
import { ParleyError } from '@parley/contracts';

/** STUN/TURN settings of the deployment (TURN REST API, coturn `use-auth-secret`). */
export interface IceServersConfig {
  stunUrls: string;
  turnUrls: string;
  turnSecret?: string;
  ttlSeconds: number;
}

export interface IceServersResultV2 {
  stun: string;
  turn: string;
  turnUsername: string;
  turnPassword: string;
  ttl: number;
}

/**
 * Time-limited TURN credentials (draft-uberti-behave-turn-rest): the username is
 * `<expiry unix seconds>:<userId>`, the password base64(HMAC-SHA1(secret, username)); coturn
 * with `use-auth-secret` and the same secret accepts them until the expiry.
 */
export function iceServersFor(config: IceServersConfig, userId: string, nowSeconds: number): IceServersResultV2 {
  if (!config.turnSecret) throw new ParleyError('UNAVAILABLE', 'TURN is not configured on this deployment (TURN_SECRET and TURN_URLS)');
  const turnUsername = `${nowSeconds + config.ttlSeconds}:${userId}`;
  const turnPassword = createHmac('sha1', config.turnSecret).update(turnUsername).digest('base64');
  return { stun: config.stunUrls, turn: config.turnUrls, turnUsername, turnPassword, ttl: config.ttlSeconds };
}
