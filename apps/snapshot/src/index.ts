export * from './service';
export * from './settings';
