import { runService } from '@parley/messaging';
import { type ServiceDefinition, startService } from './service';
import type { SettingsSpec } from '@parley/messaging';

/** A service's main: its process life (runService: ready message, bounded shutdown on SIGTERM) around startService. */
export function runMain<S extends SettingsSpec>(def: ServiceDefinition<S>): void {
  runService(def.name, () => startService(def));
}
