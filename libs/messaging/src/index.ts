export * from './rpc-client';
export * from './rpc-server';
export * from './nats-transport';
export * from './durable-consumer';
export * from './validation-pipe';
export * from './run-service';
export * from './endpoint-delivery';
export * from './env';
