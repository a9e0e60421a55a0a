export * from './service';
export * from './settings';
export { Sfu } from './sfu/sfu';
