/**
 * Every NATS subject Parley uses. Commands and queries are request/reply
 * (`parley.<service>.cmd.<name>` / `parley.<service>.qry.<name>`, queue group = service);
 * events are JetStream messages on `parley.evt.<context>.<streamId>.<Type>`.
 */
export const EVENTS_STREAM = 'PARLEY_EVENTS';
export const EVENTS_SUBJECT_ROOT = 'parley.evt';

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
  /** Answers { status: 'ok' } once the service's handlers are subscribed (readiness). */
  health: 'parley.conference.qry.health',
} as const;

/** Requests the conference service makes of the media service (the SFU). */
export const MediaCommands = {
  publish: 'parley.media.cmd.publish',
  view: 'parley.media.cmd.view',
  addPublishIceCandidates: 'parley.media.cmd.addPublishIceCandidates',
  addViewIceCandidates: 'parley.media.cmd.addViewIceCandidates',
  setPublishedBitrate: 'parley.media.cmd.setPublishedBitrate',
  /** Best-effort clean-up when a publish/view answered but its event could not be stored. */
  release: 'parley.media.cmd.release',
  /** Answers { status: 'ok' } once the service's handlers are subscribed (readiness). */
  health: 'parley.media.qry.health',
  /** STUN/TURN servers and time-limited TURN credentials for the caller. */
  iceServers: 'parley.media.qry.iceServers',
} as const;

/** Events of one conference: `parley.evt.conference.<conferenceId>.<Type>`. */
export const conferenceEventsSubject = (conferenceId: string): string => `${EVENTS_SUBJECT_ROOT}.conference.${conferenceId}.*`;

/**
 * Core-NATS delivery of an event addressed to one user endpoint (conference sendEvent now;
 * the presence service's push channel subscribes to these).
 */
export const endpointDeliverySubject = (organizationId: string, userEndpointId: string): string =>
  `parley.deliver.${organizationId}.${userEndpointId}`;

/** NATS header names carried by every request. */
export const Headers = {
  correlationId: 'Parley-Correlation-Id',
  causationId: 'Parley-Causation-Id',
  userId: 'Parley-User-Id',
  organizationId: 'Parley-Organization-Id',
  roles: 'Parley-Roles',
} as const;
