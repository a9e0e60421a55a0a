/** Nest injection tokens of the conference service. */
export const EVENT_STORE = Symbol('EVENT_STORE');
export const NATS_CONNECTION = Symbol('NATS_CONNECTION');
export const RPC_CLIENT = Symbol('RPC_CLIENT');
export const RELAY_KICK = Symbol('RELAY_KICK');
export const CONFERENCE_CONFIG = Symbol('CONFERENCE_CONFIG');
export const SERVICE_HEALTH = Symbol('SERVICE_HEALTH');
