export const NATS_CONNECTION = Symbol('NATS_CONNECTION');
export const RPC_CLIENT = Symbol('RPC_CLIENT');
export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');
