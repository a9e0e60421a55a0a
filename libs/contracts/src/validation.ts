import { randomBytes } from 'node:crypto';
import { ValidationOptions, registerDecorator, ValidationArguments, Matches } from 'class-validator';
import { jsonBytes, quote } from './limits';

/**
 * Ids that end up in NATS subjects and URLs: letters, digits, '-' and '_', at most 128.
 * (A '.', '*', '>' or space would change the subject's meaning.)
 */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;
export const IsParleyId = (options?: ValidationOptions) =>
  Matches(ID_PATTERN, { message: '$property must be 1 to 128 letters, digits, "-" or "_"', ...options });
/** The OpenAPI schema of such an id, for @ApiProperty({ ...ID_SCHEMA, description }). */
export const ID_SCHEMA = { type: 'string', pattern: ID_PATTERN.source, minLength: 1, maxLength: 128 } as const;

/** At most `max` bytes as JSON (UTF-8): how Parley bounds what a client stores (see Limits). */
export function MaxJsonBytes(max: number, options?: ValidationOptions) {
  return (object: object, propertyName: string) =>
    registerDecorator({
      name: 'maxJsonBytes',
      target: object.constructor,
      propertyName,
      constraints: [max],
      options: { message: (a: ValidationArguments) => `${a.property} must be at most ${max} bytes as JSON (UTF-8); it is ${jsonBytes(a.value)}`, ...options },
      validator: { validate: (v: unknown) => jsonBytes(v) <= max },
    });
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A JSON object whose values are all strings (e.g. conference metadata at creation). */
export function IsStringRecord(options?: ValidationOptions) {
  return (object: object, propertyName: string) =>
    registerDecorator({
      name: 'isStringRecord',
      target: object.constructor,
      propertyName,
      options: { message: (a: ValidationArguments) => `${a.property} must be an object whose values are strings`, ...options },
      validator: { validate: (v: unknown) => isPlainObject(v) && Object.values(v).every((x) => typeof x === 'string') },
    });
}

/** A JSON object (not an array, not null). */
export function IsJsonObject(options?: ValidationOptions) {
  return (object: object, propertyName: string) =>
    registerDecorator({
      name: 'isJsonObject',
      target: object.constructor,
      propertyName,
      options: { message: (a: ValidationArguments) => `${a.property} must be a JSON object`, ...options },
      validator: { validate: (v: unknown) => isPlainObject(v) },
    });
}

/** A server-chosen id nobody can guess: 128 random bits, base64url (22 characters of ID_PATTERN). */
export const unguessableId = (): string => randomBytes(16).toString('base64url');

/** Event type names: capitalized camel case of at least a noun and a verb, ending in "Event" (spec). */
export const EVENT_TYPE_PATTERN = /^(?:[A-Z][a-z0-9]+){2,}Event$/;
/** ISO-8601 instant, e.g. 2011-12-03T10:15:30Z or with milliseconds / an offset. */
export const ISO_INSTANT_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;

/**
 * The contexts whose events Parley itself sends to endpoints (and will): a client's event may not
 * take such a type, so a recipient can trust that a ConferenceEndedEvent came from Parley.
 */
export const RESERVED_EVENT_PREFIXES = ['Conference', 'UserEndpoint', 'UserEvent', 'Presence', 'Media', 'Interaction', 'Rating', 'ChatSession', 'Snapshot', 'CameraRequest', 'FileTransfer', 'Asset', 'Stream', 'Parley'] as const;

/**
 * Checks a client-supplied event for sendEvent: returns the problem, or null when it is fine.
 */
export function problemWithClientEvent(event: Record<string, unknown>): string | null {
  const { type, timestamp } = event;
  if (typeof type !== 'string') return 'event.type is required and must be a string';
  if (type.length > 128) return `event.type ${quote(type)} must be at most 128 characters`;
  if (!EVENT_TYPE_PATTERN.test(type)) return `event.type ${quote(type)} must begin with a capital, be camel case of at least a noun and a verb, and end with "Event" (e.g. "ChatMessageSentEvent")`;
  const reserved = RESERVED_EVENT_PREFIXES.find((p) => type.startsWith(p) && /^[A-Z]/.test(type.slice(p.length)));
  if (reserved) return `event.type ${quote(type)} is reserved: types beginning with "${reserved}" are Parley's own events; name yours after your application (e.g. "ChatMessageSentEvent")`;
  if (typeof timestamp !== 'string') return 'event.timestamp is required and must be an ISO-8601 instant string';
  if (!ISO_INSTANT_PATTERN.test(timestamp) || Number.isNaN(Date.parse(timestamp))) return `event.timestamp ${quote(timestamp)} must be an ISO-8601 instant such as 2011-12-03T10:15:30Z`;
  return null;
}

/** One line naming every failing field, e.g. "conferenceId must be a string; iceCandidates.0.candidate should not be empty". */
export function describeValidationErrors(errors: import('class-validator').ValidationError[], prefix = ''): string {
  const parts: string[] = [];
  for (const e of errors) {
    const path = prefix ? `${prefix}.${e.property}` : e.property;
    if (e.constraints) {
      for (const msg of Object.values(e.constraints)) parts.push(prefix ? msg.replace(e.property, path) : msg);
    }
    if (e.children?.length) parts.push(describeValidationErrors(e.children, path));
  }
  return parts.filter(Boolean).join('; ');
}

/** The field paths that failed, for the error envelope's details. */
export function failedFields(errors: import('class-validator').ValidationError[], prefix = ''): string[] {
  return errors.flatMap((e) => {
    const path = prefix ? `${prefix}.${e.property}` : e.property;
    return [...(e.constraints ? [path] : []), ...failedFields(e.children ?? [], path)];
  });
}
