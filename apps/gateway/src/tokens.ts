export const NATS_CONNECTION = Symbol('NATS_CONNECTION');
export const RPC_CLIENT = Symbol('RPC_CLIENT');
export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');
/** Whether the demo page's sign-in form may ask POST /demo/token (the public development secret is in use). */
export const DEV_SIGN_IN = Symbol('DEV_SIGN_IN');
