import { CONFERENCE_MODES, STREAM_TYPES } from './conference/web-commands';
import { PARTICIPANT_STATES } from './conference/views';
import type { ConferenceDomainEvent } from './conference/events';
import type { ConferenceEvent } from './conference/views';
import { ENDPOINT_HEALTH, type UserEndpointDomainEvent, type UserEventDomainEvent } from './presence';
import { type InteractionDomainEvent, type RatingDomainEvent, SESSION_TYPES } from './interaction';
import { CHAT_SESSION_CONTEXT, CHAT_SESSION_TYPES, type ChatSessionDomainEvent } from './chat-session';
import { ASSET_CONTEXT, CAMERA_REQUEST_CONTEXT, FILE_TRANSFER_CONTEXT, SESSION_TYPES_OF_SNAPSHOTS, SNAPSHOT_CONTEXT, type SnapshotDomainEvent } from './snapshot';
import { DEAD_LETTER_SUBJECT_ROOT, EVENTS_SUBJECT_ROOT } from './subjects';

/**
 * The events that leave a service are a published contract: every type has an explicit payload
 * shape at a version (the version its producer records). JetStream subscribers read them in the
 * relay's envelope (`parley.evt.<context>.<…ids>.<Type>`), and the conference feed (long poll,
 * pushes to joined endpoints) carries the declared fields of a conference event's payload and
 * nothing else. `asyncApiDocument()` describes all of it (served at /rtc-api/docs/asyncapi.json).
 */
export type JsonSchema = Record<string, unknown>;

type PublishedUnion = ConferenceDomainEvent | UserEndpointDomainEvent | UserEventDomainEvent | InteractionDomainEvent | RatingDomainEvent | ChatSessionDomainEvent | SnapshotDomainEvent;
export type PublishedEventType = PublishedUnion['type'];

export interface PublishedEvent<V extends number = number> {
  /** The context of its stream: its subjects are `parley.evt.<context>.…`. */
  context: 'conference' | 'userendpoint' | 'userevent' | 'interaction' | 'rating' | typeof CHAT_SESSION_CONTEXT | typeof SNAPSHOT_CONTEXT | typeof CAMERA_REQUEST_CONTEXT | typeof FILE_TRANSFER_CONTEXT | typeof ASSET_CONTEXT;
  /** The payload's version: the schemaVersion its producer records now (older ones are upcast on read). */
  version: V;
  summary: string;
  /** JSON Schema of the payload (`data`), every field declared. */
  payload: JsonSchema;
}

const text = (description?: string): JsonSchema => ({ type: 'string', ...(description ? { description } : {}) });
const instant = (description?: string): JsonSchema => ({ type: 'string', format: 'date-time', ...(description ? { description } : {}) });
const oneOfWords = (values: readonly string[]): JsonSchema => ({ type: 'string', enum: [...values] });
const freeObject = (description: string): JsonSchema => ({ type: 'object', additionalProperties: true, description });
const object = (required: Record<string, JsonSchema>, optional: Record<string, JsonSchema> = {}): JsonSchema => ({
  type: 'object',
  properties: { ...required, ...optional },
  required: Object.keys(required),
  additionalProperties: false,
});

const byEndpoint = { userEndpointId: text('the endpoint that did it'), userId: text('its user') };
const metadataEntry = object({ value: text(), userId: text(), lastModified: instant() }, { userEndpointId: text() });
const endpointRef = { userEndpointId: text(), organizationId: text(), userId: text() };
const chatSessionRef = { chatSessionId: text(), organizationId: text() };
const accounts: JsonSchema = { type: 'array', items: text('an account (user) id') };
const orgRef = { organizationId: text() };
const storedFile = object(
  { key: text("the blob's key in the store (organization first)"), size: { type: 'integer', minimum: 0 }, sha256: text('SHA-256 of the bytes, hex'), mimeType: text("the content's type, from its first bytes") },
  { extension: text("the content's extension"), filename: text('the name the client gave') },
);
const session = { sessionType: oneOfWords(SESSION_TYPES_OF_SNAPSHOTS), sessionId: text() };
const ENDPOINT_DELIVERY = object(
  { id: text('the delivery id; a qos 1 delivery is acknowledged with it'), qos: { type: 'integer', enum: [0, 1] }, event: freeObject('the event as sent') },
  { expiresAt: instant('a delivery that waited for the endpoint to connect is dropped after this instant') },
);

/** Every published event type (a missing one does not compile), at the version its producer records. */
export const PUBLISHED_EVENTS: { [K in PublishedEventType]: PublishedEvent<Extract<PublishedUnion, { type: K }>['schemaVersion']> } = {
  ConferenceCreatedEvent: {
    context: 'conference',
    version: 3,
    summary: 'A conference was created.',
    payload: object(
      { conferenceId: text(), organizationId: text(), mode: oneOfWords(CONFERENCE_MODES), creator: text('the user who created it'), metadata: { type: 'object', additionalProperties: metadataEntry }, createdAt: instant() },
      { creatorEndpoint: text(), interactionId: text() },
    ),
  },
  ConferenceJoinedEvent: {
    context: 'conference',
    version: 1,
    summary: 'An endpoint joined the conference.',
    payload: object({ ...byEndpoint, metadata: freeObject("the participant's metadata"), state: oneOfWords(PARTICIPANT_STATES) }),
  },
  ConferenceLeftEvent: { context: 'conference', version: 1, summary: 'An endpoint left the conference.', payload: object(byEndpoint, { reason: text() }) },
  ConferenceEndedEvent: { context: 'conference', version: 1, summary: 'The conference ended.', payload: object({}, { ...byEndpoint, reason: text() }) },
  ConferenceInteractionSetEvent: {
    context: 'conference',
    version: 1,
    summary: 'The conference was tied to an interaction.',
    payload: object({ interactionId: text(), userId: text() }, { userEndpointId: text() }),
  },
  ConferenceMetadataUpdatedEvent: {
    context: 'conference',
    version: 1,
    summary: "A key of the conference's metadata was set or removed.",
    payload: object({ ...byEndpoint, operation: oneOfWords(['SET', 'REMOVE']), key: text(), lastModified: instant() }, { value: text() }),
  },
  ConferenceParticipantMetadataUpdatedEvent: {
    context: 'conference',
    version: 1,
    summary: "A participant's metadata was replaced.",
    payload: object({ ...byEndpoint, metadata: freeObject('the new metadata') }),
  },
  ConferenceStreamMetadataUpdatedEvent: {
    context: 'conference',
    version: 1,
    summary: "A published stream's metadata was replaced.",
    payload: object({ ...byEndpoint, streamId: text(), metadata: freeObject('the new metadata') }),
  },
  ConferenceStreamBitrateUpdatedEvent: {
    context: 'conference',
    version: 1,
    summary: "A published stream's video bitrate cap changed.",
    payload: object({ ...byEndpoint, streamId: text(), videoBitrate: { type: 'integer', minimum: 0 } }),
  },
  ConferenceStreamPublishedEvent: {
    context: 'conference',
    version: 1,
    summary: 'An endpoint published a stream.',
    payload: object({ ...byEndpoint, streamId: text(), streamType: oneOfWords(STREAM_TYPES), metadata: freeObject("the stream's metadata") }, { videoBitrate: { type: 'integer', minimum: 0 } }),
  },
  ConferenceStreamUnpublishedEvent: {
    context: 'conference',
    version: 1,
    summary: 'A stream stopped being published (asked for, or its publisher left).',
    payload: object({ ...byEndpoint, streamId: text(), streamType: oneOfWords(STREAM_TYPES), reason: oneOfWords(['unpublished', 'left']) }),
  },
  ConferenceStreamViewStartedEvent: {
    context: 'conference',
    version: 1,
    summary: 'An endpoint started viewing a stream.',
    payload: object({ ...byEndpoint, streamId: text(), viewerId: text(), publisherEndpointId: text('the endpoint that publishes the stream') }),
  },
  ConferenceStreamViewStoppedEvent: {
    context: 'conference',
    version: 1,
    summary: 'An endpoint stopped viewing a stream.',
    payload: object({ ...byEndpoint, streamId: text(), viewerId: text() }),
  },
  ConferenceParticipantStateUpdatedEvent: {
    context: 'conference',
    version: 1,
    summary: "A participant's endpoint missed its keepalive (SICK) or kept alive again (HEALTHY).",
    payload: object({ ...byEndpoint, state: oneOfWords(PARTICIPANT_STATES) }),
  },
  UserEndpointRegisteredEvent: {
    context: 'userendpoint',
    version: 1,
    summary: 'A user endpoint was registered.',
    payload: object({ ...endpointRef, keepAliveSeconds: { type: 'integer', minimum: 1 }, serverKeepAliveReminderOn: { type: 'boolean' }, at: instant() }),
  },
  UserEndpointKeptAliveEvent: { context: 'userendpoint', version: 1, summary: 'A user endpoint kept alive.', payload: object({ ...endpointRef, at: instant() }) },
  UserEndpointKeepAliveRequestedEvent: {
    context: 'userendpoint',
    version: 1,
    summary: 'A user endpoint was reminded to keep alive.',
    payload: object({ ...endpointRef, deadline: instant('when it turns SICK without a keepalive') }),
  },
  UserEndpointStateChangedEvent: { context: 'userendpoint', version: 1, summary: 'A user endpoint turned SICK or HEALTHY.', payload: object({ ...endpointRef, state: oneOfWords(ENDPOINT_HEALTH) }) },
  UserEndpointUnregisteredEvent: {
    context: 'userendpoint',
    version: 1,
    summary: "A user endpoint was unregistered (its client's reason, or 'expired').",
    payload: object({ ...endpointRef, reason: text() }),
  },
  UserEventSentEvent: {
    context: 'userevent',
    version: 1,
    summary: "A client's event was sent to a user's endpoints (stored with its masks applied).",
    payload: object({
      organizationId: text(),
      userId: text('the recipient'),
      userEndpointIds: { type: 'array', items: text() },
      qos: { type: 'integer', enum: [0, 1] },
      deliveryId: text(),
      event: freeObject('the event, masked'),
      masks: { type: 'array', items: text('a JSONPath') },
    }),
  },
  InteractionCreatedEvent: {
    context: 'interaction',
    version: 1,
    summary: 'An interaction (the record of one customer contact) was created.',
    payload: object(
      { interactionId: text(), organizationId: text(), createdBy: text('the user who created it'), createdAt: instant(), data: freeObject('its data') },
      { type: text('its type, e.g. "video call"') },
    ),
  },
  InteractionUpdatedEvent: {
    context: 'interaction',
    version: 1,
    summary: 'An interaction was updated: a type or data present is its new value (data replaces all of it), an absent one is unchanged.',
    payload: object({ interactionId: text(), organizationId: text(), updatedBy: text('the user who updated it'), updatedAt: instant() }, { type: text(), data: freeObject('its new data, all of it') }),
  },
  RatingCreatedEvent: {
    context: 'rating',
    version: 1,
    summary: 'A user rated a call or conference (once per user and session).',
    payload: object(
      { ratingId: text(), organizationId: text(), userId: text('who rated'), sessionType: oneOfWords(SESSION_TYPES), sessionId: text('the call or conference'), score: { type: 'integer', minimum: 1, maximum: 5 }, createdAt: instant() },
      { userEndpointId: text(), interactionId: text(), comment: text() },
    ),
  },
  ChatSessionCreatedEvent: {
    context: CHAT_SESSION_CONTEXT,
    version: 1,
    summary: 'A telemedicine chat session was created (state created).',
    payload: object(
      { ...chatSessionRef, createdBy: text('the user who created it'), createdAt: instant(), type: oneOfWords(CHAT_SESSION_TYPES), participants: accounts },
      { room: text('a room; when it names a conference of the organization, the session is linked to it'), title: text() },
    ),
  },
  ChatSessionChangedEvent: {
    context: CHAT_SESSION_CONTEXT,
    version: 1,
    summary: "A chat session's fields changed: each field present is its new value (participants replace all of them), an absent one is unchanged.",
    payload: object({ ...chatSessionRef, changedBy: text('the user who changed it'), changedAt: instant() }, { type: oneOfWords(CHAT_SESSION_TYPES), room: text(), participants: accounts, title: text() }),
  },
  ChatSessionStartedEvent: {
    context: CHAT_SESSION_CONTEXT,
    version: 1,
    summary: 'A chat session was started (created → started).',
    payload: object({ ...chatSessionRef, startedBy: text('who started it'), startedAt: instant() }),
  },
  ChatSessionAcceptedEvent: {
    context: CHAT_SESSION_CONTEXT,
    version: 1,
    summary: 'A chat session was accepted (started → accepted).',
    payload: object({ ...chatSessionRef, acceptedBy: text('who accepted it'), acceptedAt: instant() }),
  },
  ChatSessionRejectedEvent: {
    context: CHAT_SESSION_CONTEXT,
    version: 1,
    summary: 'A chat session was rejected (started → rejected), with the reason when one was given.',
    payload: object({ ...chatSessionRef, rejectedBy: text('who rejected it'), rejectedAt: instant() }, { rejectReason: text() }),
  },
  ChatSessionFinishedEvent: {
    context: CHAT_SESSION_CONTEXT,
    version: 1,
    summary: 'A chat session was finished (accepted → finished), with the reason when one was given.',
    payload: object({ ...chatSessionRef, finishedBy: text('who finished it'), finishedAt: instant() }, { finishReason: text() }),
  },
  SnapshotRequestedEvent: {
    context: SNAPSHOT_CONTEXT,
    version: 1,
    summary: "A user's camera was asked for a snapshot (REQUESTED); its target endpoint is pushed the request.",
    payload: object(
      { snapshotId: text(), ...orgRef, applicationId: text(), requesterUserId: text(), requesterUserEndpointId: text(), userId: text('the target'), userEndpointId: text("the target's endpoint"), requestedAt: instant() },
      { ...session, interactionId: text(), snapshotType: text() },
    ),
  },
  SnapshotAcquiredEvent: {
    context: SNAPSHOT_CONTEXT,
    version: 1,
    summary: 'The target answered a snapshot request with its image (UPLOADED).',
    payload: object({ snapshotId: text(), ...orgRef, file: storedFile, path: text("the image's place in the organization's storage"), requesterUserEndpointId: text('who hears of it'), acquiredAt: instant() }, { snapshotType: text() }),
  },
  SnapshotUploadedEvent: {
    context: SNAPSHOT_CONTEXT,
    version: 1,
    summary: 'A user sent a snapshot unasked (UPLOADED); the requester fields name who receives it.',
    payload: object(
      {
        snapshotId: text(),
        ...orgRef,
        applicationId: text(),
        requesterUserId: text('who receives it'),
        requesterUserEndpointId: text(),
        userId: text('who sent it'),
        userEndpointId: text(),
        snapshotType: text(),
        file: storedFile,
        path: text(),
        uploadedAt: instant(),
      },
      { relatedSnapshotId: text(), interactionId: text() },
    ),
  },
  SnapshotApprovedEvent: {
    context: SNAPSHOT_CONTEXT,
    version: 1,
    summary: 'A snapshot was approved (APPROVED), with its type when the approval changed it.',
    payload: object({ snapshotId: text(), ...orgRef, approvedBy: text(), userEndpointId: text("the approver's endpoint"), requesterUserEndpointId: text(), targetUserEndpointId: text(), approvedAt: instant() }, { snapshotType: text() }),
  },
  SnapshotDiscardedEvent: {
    context: SNAPSHOT_CONTEXT,
    version: 1,
    summary: 'A snapshot was discarded (DISCARDED): its image is removed.',
    payload: object({ snapshotId: text(), ...orgRef, discardedBy: text(), userEndpointId: text("the discarder's endpoint"), requesterUserEndpointId: text(), targetUserEndpointId: text(), discardedAt: instant() }),
  },
  SnapshotCameraRequestedEvent: {
    context: CAMERA_REQUEST_CONTEXT,
    version: 1,
    summary: "A user's camera was asked to do something (CAMERA_SWITCH, FLASH_ON, FLASH_OFF or a word of the caller's); its target endpoint is pushed the request.",
    payload: object(
      { snapshotCameraRequestId: text(), ...orgRef, requesterUserId: text(), requesterUserEndpointId: text(), userId: text('the target'), userEndpointId: text("the target's endpoint"), cameraRequestType: text(), requestedAt: instant() },
      session,
    ),
  },
  SnapshotCameraRequestRespondedEvent: {
    context: CAMERA_REQUEST_CONTEXT,
    version: 1,
    summary: 'The target answered a camera request: whether it succeeded.',
    payload: object(
      { snapshotCameraRequestId: text(), ...orgRef, userId: text('who answered'), userEndpointId: text(), requesterUserEndpointId: text('who hears of it'), succeeded: { type: 'boolean' }, respondedAt: instant() },
      { additionalInformation: text() },
    ),
  },
  FileTransferCreatedEvent: {
    context: FILE_TRANSFER_CONTEXT,
    version: 1,
    summary: "A user sent a file to another; every endpoint of the target is pushed a FileTransferEvent.",
    payload: object(
      { fileTransferId: text(), ...orgRef, applicationId: text(), senderUserId: text(), targetType: oneOfWords(['user']), targetId: text('the user it is for'), file: storedFile, createdAt: instant() },
      { userEndpointId: text(), interactionId: text(), conferenceId: text() },
    ),
  },
  AssetUploadedEvent: {
    context: ASSET_CONTEXT,
    version: 1,
    summary: 'An asset was uploaded, or replaced (its earlier file is removed).',
    payload: object({ assetId: text(), ...orgRef, applicationId: text(), category: text(), rolesAllowedAccess: { type: 'array', items: text('a role') }, file: storedFile, uploadedBy: text(), uploadedAt: instant() }),
  },
  AssetDeletedEvent: {
    context: ASSET_CONTEXT,
    version: 1,
    summary: 'An asset was deleted: its URLs stop working and its file is removed.',
    payload: object({ assetId: text(), ...orgRef, deletedBy: text(), deletedAt: instant() }),
  },
};

/** The declared fields of an event's payload (an unknown type, from a newer producer, passes as it is). */
export function publishedData(type: string, data: unknown): Record<string, unknown> {
  const source = (data ?? {}) as Record<string, unknown>;
  const published = (PUBLISHED_EVENTS as Record<string, PublishedEvent | undefined>)[type];
  if (!published) return { ...source };
  const declared = Object.keys((published.payload.properties ?? {}) as object);
  return Object.fromEntries(declared.filter((k) => k in source).map((k) => [k, source[k]]));
}

/** The relay's envelope around a payload, as JetStream subscribers receive it. */
function envelope(type: string, e: PublishedEvent): JsonSchema {
  return object({
    eventId: { type: 'string', format: 'uuid', description: 'also the message id (Nats-Msg-Id): a repeat within 10 minutes is dropped' },
    type: { type: 'string', const: type },
    schemaVersion: { type: 'integer', const: e.version },
    streamId: text('<context>/<organizationId>/<id> (userevent: userevent/<deliveryId>)'),
    streamVersion: { type: 'integer', minimum: 1, description: "the event's position in its stream" },
    globalPosition: text('position in the producing store (decimal)'),
    transactionId: text('the producing transaction (decimal)'),
    createdAt: instant('when it was stored'),
    metadata: object({ correlationId: text(), causationId: text(), userId: text('who caused it'), organizationId: text(), time: instant('when it was decided') }),
    data: e.payload,
  });
}

const id = (description: string): JsonSchema => ({ description });

/** The channel of a context whose streams are an organization's: `parley.evt.<context>.{organizationId}.{<idName>}.{eventType}`. */
const scopedEventsChannel = (context: string, idName: string, thing: string, title: string, description: string): JsonSchema => ({
  address: `${EVENTS_SUBJECT_ROOT}.${context}.{organizationId}.{${idName}}.{eventType}`,
  title,
  description,
  parameters: { organizationId: id('the organization'), [idName]: id(thing), eventType: id('the event type') },
  messages: {},
});

/**
 * The AsyncAPI 3 document of everything Parley publishes on NATS for other systems: every event
 * subject with each type's payload and version, the endpoint deliveries, the dead letters.
 */
export function asyncApiDocument(version: string): JsonSchema {
  const channels: Record<string, JsonSchema> = {
    conferenceEvents: scopedEventsChannel('conference', 'conferenceId', 'the conference', 'Conference events', 'Every event of every conference, in order per conference (JetStream stream PARLEY_EVENTS, kept for ever).'),
    userEndpointEvents: scopedEventsChannel('userendpoint', 'userEndpointId', 'the endpoint', 'User endpoint events', "Every event of every user endpoint (presence), in order per endpoint (PARLEY_EVENTS)."),
    userEvents: {
      address: `${EVENTS_SUBJECT_ROOT}.userevent.{deliveryId}.{eventType}`,
      title: 'User sendEvent records',
      description: 'One record per user sendEvent (PARLEY_EVENTS).',
      parameters: { deliveryId: id('the delivery'), eventType: id('the event type') },
      messages: {},
    },
    interactionEvents: scopedEventsChannel('interaction', 'interactionId', 'the interaction', 'Interaction events', 'Every event of every interaction, in order per interaction (PARLEY_EVENTS).'),
    ratingEvents: scopedEventsChannel('rating', 'ratingId', 'the rating', 'Rating events', 'Every rating of a call or conference (PARLEY_EVENTS).'),
    snapshotEvents: scopedEventsChannel(SNAPSHOT_CONTEXT, 'snapshotId', 'the snapshot', 'Snapshot events', 'Every event of every snapshot, in order per snapshot (PARLEY_EVENTS). The presence service pushes each to the endpoints it concerns.'),
    cameraRequestEvents: scopedEventsChannel(CAMERA_REQUEST_CONTEXT, 'snapshotCameraRequestId', 'the camera request', 'Camera request events', 'Every camera request and its answer (PARLEY_EVENTS).'),
    fileTransferEvents: scopedEventsChannel(FILE_TRANSFER_CONTEXT, 'fileTransferId', 'the file transfer', 'File transfer events', 'Every file sent between users (PARLEY_EVENTS).'),
    assetEvents: scopedEventsChannel(ASSET_CONTEXT, 'assetId', 'the asset', 'Asset events', "Every change of the organizations' assets (PARLEY_EVENTS)."),
    chatSessionEvents: scopedEventsChannel(CHAT_SESSION_CONTEXT, 'chatSessionId', 'the chat session', 'Chat session events', 'Every event of every telemedicine chat session, in order per session (PARLEY_EVENTS). The presence service pushes each to the endpoints of its participants and of its room\'s conference.'),
    endpointDeliveries: {
      address: 'parley.deliver.{organizationId}.{userEndpointId}',
      title: 'Deliveries to one endpoint',
      description:
        "What an endpoint's socket or long poll receives (core NATS, to the gateway that holds the endpoint's session). qos 1 deliveries, and qos 0 ones sent while the endpoint had no session, wait in PARLEY_DELIVERY (parley.deliverq.{organizationId}.{userEndpointId}) for its next session.",
      parameters: { organizationId: id('the organization'), userEndpointId: id('the endpoint') },
      messages: {
        EndpointDelivery: {
          name: 'EndpointDelivery',
          contentType: 'application/json',
          payload: ENDPOINT_DELIVERY,
        },
      },
    },
    organizationDeliveries: {
      address: 'parley.deliverg.{organizationId}',
      title: 'Live-only deliveries to several endpoints of an organization',
      description:
        "A conference's own events for the endpoints joined to it (core NATS, nothing kept): each gateway holding a session of the organization receives the message once and pushes its delivery to its own sessions among the targets.",
      parameters: { organizationId: id('the organization') },
      messages: {
        GroupDelivery: {
          name: 'GroupDelivery',
          contentType: 'application/json',
          payload: object({ targets: { type: 'array', items: text('a user endpoint id of the organization') }, delivery: ENDPOINT_DELIVERY }),
        },
      },
    },
    deadLetters: {
      address: `${DEAD_LETTER_SUBJECT_ROOT}.{consumer}`,
      title: 'Dead letters',
      description: 'Messages a consumer kept failing on, as they were, with headers saying where from and why (PARLEY_DEAD_LETTERS, 30 days).',
      parameters: { consumer: id('the consumer') },
      messages: {
        DeadLetter: {
          name: 'DeadLetter',
          contentType: 'application/json',
          headers: object({ 'Parley-Dlq-Consumer': text(), 'Parley-Dlq-Subject': text(), 'Parley-Dlq-Stream-Sequence': text(), 'Parley-Dlq-Deliveries': text(), 'Parley-Dlq-Error': text(), 'Parley-Dlq-At': instant() }),
          payload: { description: 'the original message' },
        },
      },
    },
  };
  const channelOf = { conference: 'conferenceEvents', userendpoint: 'userEndpointEvents', userevent: 'userEvents', interaction: 'interactionEvents', rating: 'ratingEvents', [CHAT_SESSION_CONTEXT]: 'chatSessionEvents', [SNAPSHOT_CONTEXT]: 'snapshotEvents', [CAMERA_REQUEST_CONTEXT]: 'cameraRequestEvents', [FILE_TRANSFER_CONTEXT]: 'fileTransferEvents', [ASSET_CONTEXT]: 'assetEvents' } as const;
  for (const [type, e] of Object.entries(PUBLISHED_EVENTS) as Array<[string, PublishedEvent]>) {
    (channels[channelOf[e.context]].messages as Record<string, JsonSchema>)[type] = {
      name: type,
      title: `${type} v${e.version}`,
      summary: e.summary,
      contentType: 'application/json',
      headers: object({ 'Parley-Event-Type': { type: 'string', const: type }, 'Parley-Stream-Id': text(), 'Parley-Stream-Version': text(), 'Nats-Msg-Id': text('the event id') }),
      payload: envelope(type, e),
    };
  }
  const operations = Object.fromEntries(
    Object.entries(channels).map(([name, channel]) => [
      `receive${name[0].toUpperCase()}${name.slice(1)}`,
      {
        action: 'receive',
        channel: { $ref: `#/channels/${name}` },
        messages: Object.keys(channel.messages as object).map((m) => ({ $ref: `#/channels/${name}/messages/${m}` })),
      },
    ]),
  );
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Parley events',
      version,
      description: 'What Parley publishes on NATS for internal integrations. Each event type has a payload version; older stored versions reach subscribers upcast to it.',
    },
    defaultContentType: 'application/json',
    channels,
    operations,
  };
}

/** What toFeedEvent needs of a recorded conference event (the event store's RecordedEvent has it). */
export interface RecordedConferenceEvent {
  eventId: string;
  type: string;
  streamVersion: number;
  data: unknown;
  metadata: { time: string; organizationId: string };
}

/**
 * One item of the conference feed (long poll, and what endpoints joined to the conference are
 * pushed): the spec's fields first, then the declared fields of the event's published payload.
 */
export function toFeedEvent(conferenceId: string, e: RecordedConferenceEvent): ConferenceEvent {
  const base = {
    id: e.eventId,
    type: e.type,
    timestamp: new Date(e.metadata.time).toISOString(),
    conferenceId,
    organizationId: e.metadata.organizationId,
    conferenceVersion: e.streamVersion,
  };
  const data = Object.fromEntries(Object.entries(publishedData(e.type, e.data)).filter(([k]) => !(k in base)));
  return { ...base, ...data };
}
