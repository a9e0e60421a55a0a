export * from './subjects';
export * from './errors';
export * from './limits';
export * from './actor';
export * from './validation';
export * from './media';
export * from './conference';
export * from './presence';
