/**
 * Every NATS subject Parley uses. Commands and queries are request/reply
 * (`parley.<service>.cmd.<name>` / `parley.<service>.qry.<name>`, queue group = service);
 * events are JetStream messages on `parley.evt.<context>.<streamId>.<Type>`.
 */
export const EVENTS_STREAM = 'PARLEY_EVENTS';
export const EVENTS_SUBJECT_ROOT = 'parley.evt';
/** Messages a consumer could not handle, on `parley.dlq.<consumer>`, kept with the error until replayed or dropped. */
export const DEAD_LETTER_STREAM = 'PARLEY_DEAD_LETTERS';
export const DEAD_LETTER_SUBJECT_ROOT = 'parley.dlq';
/** Where a consumer takes a dead letter back to handle it again (request/reply): `parley.replay.<consumer>`. */
export const replaySubject = (consumer: string): string => `parley.replay.${consumer}`;

/** The subject every service answers its health on: `parley.<service>.qry.health` (its readiness too). */
export const healthSubject = (service: string): string => `parley.${service}.qry.health`;

/** Where a service answers an operator about its projections (`npm run -s projections`). */
export const projectionAdminSubject = (service: string): string => `parley.${service}.admin.projections`;

export const ConferenceCommands = {
  create: 'parley.conference.cmd.create',
  join: 'parley.conference.cmd.join',
  leave: 'parley.conference.cmd.leave',
  end: 'parley.conference.cmd.end',
  setInteraction: 'parley.conference.cmd.setInteraction',
  updateMetadata: 'parley.conference.cmd.updateMetadata',
  updateParticipantMetadata: 'parley.conference.cmd.updateParticipantMetadata',
  updateStreamMetadata: 'parley.conference.cmd.updateStreamMetadata',
  updatePublishedStreamBitrate: 'parley.conference.cmd.updatePublishedStreamBitrate',
  publishStream: 'parley.conference.cmd.publishStream',
  unpublishStream: 'parley.conference.cmd.unpublishStream',
  viewStream: 'parley.conference.cmd.viewStream',
  stopViewStream: 'parley.conference.cmd.stopViewStream',
  addPublishStreamIceCandidates: 'parley.conference.cmd.addPublishStreamIceCandidates',
  addViewStreamIceCandidates: 'parley.conference.cmd.addViewStreamIceCandidates',
  sendEvent: 'parley.conference.cmd.sendEvent',
  /** From the presence service only (SERVICE): a participant's endpoint turned SICK or HEALTHY. No HTTP route. */
  updateParticipantState: 'parley.conference.cmd.updateParticipantState',
} as const;

export const ConferenceQueries = {
  get: 'parley.conference.qry.get',
  simpleView: 'parley.conference.qry.simpleView',
  active: 'parley.conference.qry.active',
  events: 'parley.conference.qry.events',
  /** The service's health (see ServiceHealth); answered once its handlers are subscribed (readiness). */
  health: healthSubject('conference'),
} as const;

/** One part of a service as its health answer reports it. */
export interface PartHealth {
  status: 'up' | 'down';
  error?: string;
}

/**
 * What a service's health subject answers: whether each of its parts is up (its database, its
 * relay), what the gateway's /health and /metrics report about it (the relay's lag and dead
 * letters, its load). `status` is 'down' when any part is.
 */
export interface ServiceHealth {
  status: 'ok' | 'down';
  service: string;
  database?: PartHealth;
  /** Events its relay could never publish (see relay_dead_letters in its database), and those committed and not yet published. */
  relay?: PartHealth & { lag?: number; deadLetters: number; lastDeadLetter?: { eventId: string; streamId: string; type: string; reason: string; at: string } };
  /** Gauges worth a look (e.g. the SFU's transports). */
  gauges?: Record<string, number>;
}

/** Requests the conference service makes of the media service (the SFU). */
export const MediaCommands = {
  publish: 'parley.media.cmd.publish',
  view: 'parley.media.cmd.view',
  addPublishIceCandidates: 'parley.media.cmd.addPublishIceCandidates',
  addViewIceCandidates: 'parley.media.cmd.addViewIceCandidates',
  setPublishedBitrate: 'parley.media.cmd.setPublishedBitrate',
  /** Best-effort clean-up when a publish/view answered but its event could not be stored. */
  release: 'parley.media.cmd.release',
  /** The service's health (see ServiceHealth); answered once its handlers are subscribed (readiness). */
  health: healthSubject('media'),
  /** STUN/TURN servers and time-limited TURN credentials for the caller. */
  iceServers: 'parley.media.qry.iceServers',
} as const;

/**
 * Event-store streams of an organization's aggregates: `<context>/<organizationId>/<id>`. Ids are
 * unique within their organization only (two organizations may both have conference "call-1").
 * Their events' subjects have each part as a token: `parley.evt.<context>.<organizationId>.<id>.<Type>`
 * (ids and organization ids never hold a '/', '.', '*', '>' or a space).
 */
export const scopedStreamId = (context: string, organizationId: string, id: string): string => `${context}/${organizationId}/${id}`;

/** The organization and id of a scoped stream id of `context`, or undefined for any other stream. */
export function parseScopedStreamId(context: string, streamId: string): { organizationId: string; id: string } | undefined {
  const prefix = `${context}/`;
  if (!streamId.startsWith(prefix)) return undefined;
  const rest = streamId.slice(prefix.length);
  const slash = rest.indexOf('/');
  if (slash <= 0 || slash === rest.length - 1) return undefined;
  return { organizationId: rest.slice(0, slash), id: rest.slice(slash + 1) };
}

/** Events of one conference: `parley.evt.conference.<organizationId>.<conferenceId>.<Type>`. */
export const conferenceEventsSubject = (organizationId: string, conferenceId: string): string => `${EVENTS_SUBJECT_ROOT}.conference.${organizationId}.${conferenceId}.*`;

/**
 * Core-NATS delivery of an event addressed to one user endpoint (conference sendEvent now;
 * the presence service's push channel subscribes to these).
 */
export const endpointDeliverySubject = (organizationId: string, userEndpointId: string): string =>
  `parley.deliver.${organizationId}.${userEndpointId}`;
