export { type Setting, type SettingsSpec, type SettingsOf, SettingError, int, text, optional, oneOf, readSettings, listSettings, reportSettings, mask } from '@parley/messaging';
export { PARLEY_MODES, type ParleyMode, platformSettings } from './platform-settings';
export { KIT, type Kit, type Clock, systemClock, instantOf } from './kit';
export { Aggregate, appendAnswered, causeOf, changingTooFast, type AggregateDefinition, type AggregateExecuteOptions, type Cause, type Outcome } from './aggregate';
export { CommandAnswers, type StoredAnswer, fingerprintOf } from './command-answers';
export { eventConsumer, skip, type EventConsumer, type EventConsumerDefinition, type EventHandler, type EventHandlers } from './consumers';
export {
  type Projection,
  type StateProjection,
  type EventProjection,
  type JetStreamProjection,
  type ProjectionStatus,
  Projections,
  stateProjection,
  eventProjection,
  jetStreamProjection,
  tableOf,
  companionOf,
} from './projections';
export { openEventStore, upcasterRegistry } from './stores';
export { askProjectionAdmin, type ProjectionAdminAnswer } from './projection-admin';
export { defineService, startService, logTransport, type ServiceDefinition, type RunningService, type StartOptions, type Part } from './service';
export { runMain } from './main';
export { endpointOwner } from './endpoint-owner';
export {
  type ParleySecrets,
  makeSecrets,
  processSecretsEnv,
  operatorEnv,
  natsAuthorizationConfig,
  deployedNatsAuthorization,
  secretsEnvFile,
  natsPasswordVariable,
  identityKeyVariable,
  trustedKeys,
} from './secrets';
