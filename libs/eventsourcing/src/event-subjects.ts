/** The JetStream stream every committed event is relayed to. */
export const EVENTS_STREAM = 'PARLEY_EVENTS';
/** Every event subject starts with this; the stream captures `parley.evt.>`. */
export const EVENT_SUBJECT_PREFIX = 'parley.evt';

// A subject token must not split (.), wildcard (* >) or break the protocol line (whitespace).
const INVALID_TOKEN = /[.*>\s]/;

function checkToken(kind: string, token: string): string {
  if (token.length === 0 || INVALID_TOKEN.test(token)) {
    throw new Error(`invalid ${kind} for an event subject: ${JSON.stringify(token)} (no '.', '*', '>' or whitespace, not empty)`);
  }
  return token;
}

/**
 * `parley.evt.<context>.<id>.<Type>`, e.g. `parley.evt.conference.4f1c….ConferenceJoinedEvent`.
 * `id` is the stream id without its prefix. Consumers filter with wildcards such as
 * `parley.evt.conference.*.ConferenceEndedEvent`, so each part must be exactly one token.
 */
export function eventSubject(context: string, id: string, type: string): string {
  return `${EVENT_SUBJECT_PREFIX}.${checkToken('context', context)}.${checkToken('id', id)}.${checkToken('type', type)}`;
}

/**
 * The subject of an event of stream `<context>/<organizationId>/<id>`: each part of the stream id
 * is a token of its own, `parley.evt.<context>.<organizationId>.<id>.<Type>` (e.g.
 * `parley.evt.conference.org-a.call-1.ConferenceJoinedEvent`), so consumers can filter by
 * context, organization and stream alike (`parley.evt.conference.org-a.>`). A stream id without
 * an organization (`userevent/<id>`) gives `parley.evt.userevent.<id>.<Type>`.
 */
export function streamEventSubject(streamId: string, type: string): string {
  const parts = streamId.split('/');
  if (parts.length < 2) throw new Error(`stream id ${JSON.stringify(streamId)} has no "<context>/" prefix`);
  return [EVENT_SUBJECT_PREFIX, ...parts.map((p, i) => checkToken(i === 0 ? 'context' : 'id', p)), checkToken('type', type)].join('.');
}
