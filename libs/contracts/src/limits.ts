import { ParleyError } from './errors';

/**
 * Every bound on the size of what a client can make Parley hold or send, in one place: the
 * gateway's validation, the deciders, the event store and the NATS replies check these same
 * numbers, so a value the gateway accepts is never refused (or crashes something) further in.
 * Counts and rates (how many endpoints, sockets, publications; requests per minute) are quotas,
 * configured per service; docs/limits.md lists both.
 *
 * Sizes are bytes of the value serialized as JSON (UTF-8), the form it is stored and sent in.
 */
export const Limits = {
  /** NATS's max_payload (the server default): nothing Parley publishes may be larger. */
  natsMaxPayloadBytes: 1024 * 1024,
  /** The most one reply over NATS may weigh; the rest of max_payload is headroom for the envelope and headers. */
  replyBytes: 960 * 1024,
  /** One page of a list reply (the conference feed, the active conferences): items are added while they fit. */
  pageBytes: 768 * 1024,
  /** One stored event (its data and metadata): a larger one is refused at the append, so the relay can always publish it. */
  eventBytes: 256 * 1024,
  /** One conference as GET /conferences/{id} answers it: a command that would grow it past this is refused (413). */
  conferenceBytes: 256 * 1024,
  /** A JSON document a client stores: conference, participant or stream metadata. */
  documentBytes: 16 * 1024,
  /** One conference metadata value (updateMetadata SET). */
  valueBytes: 16 * 1024,
  /** The event of a sendEvent. */
  clientEventBytes: 64 * 1024,
  /** Nesting of objects and arrays in a JSON request body. */
  jsonDepth: 32,
  /** An SDP offer, and what is in it. */
  sdpBytes: 64 * 1024,
  sdpMediaSections: 16,
  sdpCandidatesPerSection: 32,
  sdpCodecsPerSection: 64,
  /** How much of a client's input an error message quotes back. */
  quotedChars: 64,
} as const;

export type LimitName = keyof typeof Limits;

/**
 * The Retry-After a count quota answers with (endpoints, sockets, publications, …): a hint, since
 * what frees a place (a leave, an unpublish, an expiry) is up to the client. Rate limits answer
 * the time until their window resets instead.
 */
export const QUOTA_RETRY_AFTER_SECONDS = 30;

/** The size of `value` serialized as JSON, in UTF-8 bytes (0 for undefined). */
export function jsonBytes(value: unknown): number {
  const text = JSON.stringify(value);
  return text === undefined ? 0 : Buffer.byteLength(text);
}

/**
 * The first items of `items` that fit together in `maxBytes` as a JSON array (always at least
 * one: each item is bounded on its own): one page of a list reply.
 */
export function pageOf<T>(items: readonly T[], maxBytes: number = Limits.pageBytes): T[] {
  const page: T[] = [];
  let bytes = 2;
  for (const item of items) {
    bytes += jsonBytes(item) + 1;
    if (page.length > 0 && bytes > maxBytes) break;
    page.push(item);
  }
  return page;
}

/** `page` as it is, or 413 naming pageBytes when it would pass Limits.pageBytes as JSON (a page the client asked too large: a smaller size fits). */
export function wholePage<T>(page: T, what: string): T {
  const bytes = jsonBytes(page);
  if (bytes > Limits.pageBytes) throw tooLarge(what, bytes, Limits.pageBytes, 'pageBytes');
  return page;
}

/** A client's string as an error message may show it: JSON-quoted, cut at Limits.quotedChars. */
export function quote(value: string, max: number = Limits.quotedChars): string {
  return value.length <= max ? JSON.stringify(value) : `${JSON.stringify(value.slice(0, max))}… (${value.length} characters)`;
}

/** 413 naming the bound: "<what> would be <n> bytes as JSON; the limit is <limit>". */
export function tooLarge(what: string, bytes: number, limit: number, bound: LimitName): ParleyError {
  return new ParleyError('PAYLOAD_TOO_LARGE', `${what} would be ${bytes} bytes as JSON; the limit is ${limit} bytes`, { bound, limit, bytes });
}

/** 429 with the hint the gateway turns into Retry-After: a quota is used up. */
export function quotaExceeded(message: string, quota: string, limit: number, retryAfterSeconds: number): ParleyError {
  return new ParleyError('TOO_MANY_REQUESTS', message, { quota, limit, retryAfterSeconds });
}

/**
 * How deeply `text` (JSON) nests objects and arrays, counted without parsing it, and stopping as
 * soon as `stopAbove` is passed: so a body of a million '[' costs one linear scan, not a stack.
 */
export function jsonNestingDepth(text: string, stopAbove: number = Limits.jsonDepth): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth > max) {
        max = depth;
        if (max > stopAbove) return max;
      }
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * The first string (value or key) in `value` that PostgreSQL's jsonb cannot store: one with a NUL
 * (U+0000) or an unpaired UTF-16 surrogate. Answers "<path>: <why>", or null when there is none.
 * Walks without recursion; call it on parsed JSON whose depth was checked.
 */
export function problemWithJsonStrings(value: unknown): string | null {
  const stack: Array<{ v: unknown; path: string }> = [{ v: value, path: '' }];
  const bad = (s: string): string | null => (s.includes('\u0000') ? 'contains a NUL character (U+0000)' : LONE_SURROGATE.test(s) ? 'contains an unpaired UTF-16 surrogate' : null);
  const member = (path: string, k: string) => (/^[A-Za-z_$][\w$]{0,63}$/.test(k) ? (path ? `${path}.${k}` : k) : `${path}[${quote(k)}]`);
  while (stack.length > 0) {
    const { v, path } = stack.pop() as { v: unknown; path: string };
    if (typeof v === 'string') {
      const why = bad(v);
      if (why) return `${path || 'the body'} ${why}`;
    } else if (Array.isArray(v)) {
      v.forEach((x, i) => stack.push({ v: x, path: `${path}[${i}]` }));
    } else if (typeof v === 'object' && v !== null) {
      for (const [k, x] of Object.entries(v)) {
        const why = bad(k);
        if (why) return `a key in ${path || 'the body'} ${why}`;
        stack.push({ v: x, path: member(path, k) });
      }
    }
  }
  return null;
}
