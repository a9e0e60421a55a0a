/** Nest injection tokens of the presence service. */
export const EVENT_STORE = Symbol('EVENT_STORE');
export const NATS_CONNECTION = Symbol('NATS_CONNECTION');
export const RELAY_KICK = Symbol('RELAY_KICK');
export const PRESENCE_CONFIG = Symbol('PRESENCE_CONFIG');
export const CLOCK = Symbol('CLOCK');
export const SERVICE_HEALTH = Symbol('SERVICE_HEALTH');
