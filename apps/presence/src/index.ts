export * from './bootstrap';
export * from './config';
