export * from './web-commands';
export * from './views';
export * from './events';
export * from './upcasters';
