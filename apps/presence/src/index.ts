export * from './service';
export * from './settings';
export { DeadlineScheduler } from './scheduler';
