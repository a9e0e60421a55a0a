import { randomBytes } from 'node:crypto';
import type { ConnectionOptions } from 'nats';
import { natsServers } from './rpc-client';
import { SettingError, optional } from './settings';
import { ASSET_CONTEXT, CAMERA_REQUEST_CONTEXT, CHAT_SESSION_CONTEXT, CONFERENCE_CONTEXT, DEAD_LETTER_STREAM, DEAD_LETTER_SUBJECT_ROOT, DELIVERY_STREAM, EVENTS_STREAM, EVENTS_SUBJECT_ROOT, FILE_TRANSFER_CONTEXT, INTERACTION_CONTEXT, RATING_CONTEXT, SNAPSHOT_CONTEXT, USER_ENDPOINT_CONTEXT, USER_EVENT_CONTEXT } from '@parley/contracts';

/**
 * Who may publish and subscribe to what on NATS: one user per process, each limited to the
 * subjects it needs, so that one process's credentials cannot send another's commands, read
 * the deliveries of endpoints it does not serve, or speak for a context it does not own.
 * `npm start`, the test harness and deploy/nats/ render the server's `authorization` block from
 * this one table (renderNatsAuthorization); deploy/nats/authorization.conf is checked against it.
 *
 * Every service replies to the requests it is allowed to receive (allow_responses) and every
 * process gets its own inbox prefix (`_INBOX_<user>`), so nobody can subscribe to another's
 * answers. The gateway answers no request, so it has no allow_responses: the server would
 * otherwise note the reply subject of every message it hands the gateway (each endpoint delivery
 * carries one, see deliverToEndpoints), a cost per message at the busiest connection.
 */
export interface NatsUserPermissions {
  publish: { allow: string[]; deny?: string[] };
  subscribe: { allow: string[]; deny?: string[] };
  /** Whether it may publish to the reply subject of a message it received (default true). */
  allowResponses?: boolean;
}

/** The inbox prefix of a NATS user: replies to its requests arrive under it, and only it may subscribe there. */
export const inboxPrefixOf = (user: string): string => `_INBOX_${user}`;

/**
 * The JetStream API, granted stream by stream: finding the Parley streams and creating a missing
 * one (provisionStreams) is every service's; a consumer only on the streams and subjects the
 * process reads (the subject filter is part of the create request's subject, so a user cannot
 * make itself a consumer of what it may not read); nobody but the operator deletes or changes a
 * stream, reads a stream's messages one by one, or lists them.
 */
const PARLEY_STREAMS = [EVENTS_STREAM, DELIVERY_STREAM, DEAD_LETTER_STREAM];
const provisioning = ['$JS.API.INFO', ...PARLEY_STREAMS.flatMap((s) => [`$JS.API.STREAM.INFO.${s}`, `$JS.API.STREAM.CREATE.${s}`])];
const consumersOn = (stream: string, ...filters: string[]) => [
  ...filters.map((filter) => `$JS.API.CONSUMER.CREATE.${stream}.*.${filter}`),
  `$JS.API.CONSUMER.INFO.${stream}.*`,
  `$JS.API.CONSUMER.DELETE.${stream}.*`,
  `$JS.API.CONSUMER.MSG.NEXT.${stream}.*`,
  `$JS.ACK.${stream}.>`,
];

const own = (service: string) => [`parley.${service}.>`];
const events = (...contexts: string[]) => contexts.map((c) => `${EVENTS_SUBJECT_ROOT}.${c}.>`);
const deadLetters = `${DEAD_LETTER_SUBJECT_ROOT}.>`;
/** A service with durable consumers dead-letters what they cannot handle, and takes back the operator's replays. */
const REPLAYS = 'parley.replay.>';

/** By NATS user (a process of PARLEY_SERVICES, and `operator` for the CLIs and the test harness). */
export const NATS_PERMISSIONS: Readonly<Record<string, NatsUserPermissions>> = {
  gateway: {
    publish: {
      allow: ['parley.conference.cmd.*', 'parley.conference.qry.*', 'parley.presence.cmd.*', 'parley.presence.qry.*', 'parley.interaction.cmd.*', 'parley.interaction.qry.*', 'parley.snapshot.cmd.*', 'parley.snapshot.qry.*', 'parley.media.qry.*', 'parley.session.>', '$JS.API.INFO', ...consumersOn(DELIVERY_STREAM, 'parley.deliverq.>')],
      // Commands only services send: the presence service's verdict on a participant.
      deny: ['parley.conference.cmd.updateParticipantState'],
    },
    subscribe: { allow: [`${inboxPrefixOf('gateway')}.>`, ...events(CONFERENCE_CONTEXT), 'parley.session.>', 'parley.deliver.>', 'parley.deliverg.>'] },
    allowResponses: false,
  },
  conference: {
    publish: { allow: ['parley.conference.qry.health', 'parley.media.cmd.*', 'parley.presence.qry.endpoint', 'parley.deliver.>', 'parley.deliverq.>', ...events(CONFERENCE_CONTEXT), ...provisioning] },
    subscribe: { allow: [`${inboxPrefixOf('conference')}.>`, ...own('conference')] },
  },
  presence: {
    publish: {
      allow: [
        'parley.presence.qry.health',
        'parley.conference.cmd.updateParticipantState',
        'parley.conference.cmd.leave',
        'parley.deliver.>',
        'parley.deliverg.>',
        'parley.deliverq.>',
        'parley.session.>',
        ...events(USER_ENDPOINT_CONTEXT, USER_EVENT_CONTEXT),
        deadLetters,
        ...provisioning,
        ...consumersOn(EVENTS_STREAM, ...events(USER_ENDPOINT_CONTEXT, CONFERENCE_CONTEXT, CHAT_SESSION_CONTEXT, SNAPSHOT_CONTEXT, CAMERA_REQUEST_CONTEXT, FILE_TRANSFER_CONTEXT)),
        // An endpoint that is gone: its queue purged, its delivery consumer deleted.
        `$JS.API.STREAM.PURGE.${DELIVERY_STREAM}`,
        `$JS.API.CONSUMER.DELETE.${DELIVERY_STREAM}.*`,
      ],
    },
    subscribe: { allow: [`${inboxPrefixOf('presence')}.>`, ...own('presence'), REPLAYS] },
  },
  interaction: {
    publish: { allow: ['parley.interaction.qry.health', ...events(INTERACTION_CONTEXT, RATING_CONTEXT, CHAT_SESSION_CONTEXT), deadLetters, ...provisioning, ...consumersOn(EVENTS_STREAM, ...events(CONFERENCE_CONTEXT))] },
    subscribe: { allow: [`${inboxPrefixOf('interaction')}.>`, ...own('interaction'), REPLAYS] },
  },
  snapshot: {
    publish: { allow: ['parley.snapshot.qry.health', 'parley.presence.qry.endpoint', ...events(SNAPSHOT_CONTEXT, CAMERA_REQUEST_CONTEXT, FILE_TRANSFER_CONTEXT, ASSET_CONTEXT), ...provisioning] },
    subscribe: { allow: [`${inboxPrefixOf('snapshot')}.>`, ...own('snapshot')] },
  },
  media: {
    publish: { allow: ['parley.media.qry.health', deadLetters, ...provisioning, ...consumersOn(EVENTS_STREAM, ...events(CONFERENCE_CONTEXT))] },
    subscribe: { allow: [`${inboxPrefixOf('media')}.>`, ...own('media'), REPLAYS] },
  },
  /** The operator's CLIs (projections, dead letters) and the test harness: everything, and the dead-letter stream's upkeep. */
  operator: { publish: { allow: ['>'] }, subscribe: { allow: ['>'] } },
};

/** The NATS user a process connects as, and its password: each process its own (NATS_PERMISSIONS). */
export const natsCredentialSettings = {
  natsUser: optional('NATS_USER', 'the NATS user this process connects as (its own: see docs/security.md); unset: none, which only an open development server accepts'),
  natsPassword: optional('NATS_PASSWORD', "that user's password", { secret: true }),
};

/** Where and as whom a process connects to NATS. */
export interface NatsSettings {
  natsUrl: string;
  natsUser?: string;
  natsPassword?: string;
}

/** Production connects to NATS as a user of its own: without one, a process refuses to start (development runs on an open server). */
export function checkNatsCredentials(settings: NatsSettings & { mode: string }): void {
  if (settings.mode === 'production' && !settings.natsUser) {
    throw new SettingError('NATS_USER and NATS_PASSWORD are not set: in production every process connects to NATS as its own user (`npm run -s secrets` makes the passwords; docs/security.md); PARLEY_MODE=development runs without');
  }
}

/** How a process connects to NATS: the servers, a name for the server's monitoring, its credentials and its own inbox prefix. */
export function natsConnectOptions(settings: NatsSettings, name: string): ConnectionOptions {
  return {
    servers: natsServers(settings.natsUrl),
    name,
    // Without it, every request (JetStream publishes included) captures two stack traces in case it
    // times out: a tenth of the gateway's CPU under load (BENCHMARKS.md, "Where a command's time goes").
    noAsyncTraces: true,
    ...(settings.natsUser ? { user: settings.natsUser, pass: settings.natsPassword ?? '', inboxPrefix: inboxPrefixOf(settings.natsUser) } : {}),
  };
}

/** A password for a NATS user: 32 random bytes, base64url. */
export const newNatsPassword = (): string => randomBytes(32).toString('base64url');

const list = (subjects: string[]) => `[${subjects.map((s) => JSON.stringify(s)).join(', ')}]`;
const rule = (r: { allow: string[]; deny?: string[] }) => `{ allow: ${list(r.allow)}${r.deny?.length ? `, deny: ${list(r.deny)}` : ''} }`;

/**
 * nats-server's `authorization` block for these users. `password(user)` is what goes in the
 * file: a literal (quoted) for generated configurations, or a `$VARIABLE` reference that the
 * server reads from its environment (deploy/nats/authorization.conf).
 */
export function renderNatsAuthorization(password: (user: string) => string): string {
  const users = Object.entries(NATS_PERMISSIONS).map(
    ([user, p]) =>
      `    { user: ${JSON.stringify(user)}, password: ${password(user)}, permissions: {\n        publish: ${rule(p.publish)}\n        subscribe: ${rule(p.subscribe)}\n        allow_responses: ${p.allowResponses ?? true}\n    } }`,
  );
  return `authorization {\n  users: [\n${users.join('\n')}\n  ]\n}\n`;
}
