import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import multipart from '@fastify/multipart';
import type { FastifyInstance } from 'fastify';
import secureJson from 'secure-json-parse';
import { Limits, ParleyError, jsonNestingDepth, problemWithJsonStrings } from '@parley/contracts';

const utf8 = new TextDecoder('utf-8', { fatal: true });
const bad = (message: string) => new ParleyError('BAD_REQUEST', message);

function decodeUtf8(body: Buffer): string {
  try {
    return utf8.decode(body);
  } catch {
    throw bad('The request body is not valid UTF-8');
  }
}

/**
 * A JSON request body, checked before anything goes deep into it: valid UTF-8, nesting at most
 * Limits.jsonDepth (counted in one scan of the text, before parsing), valid JSON without
 * prototype-poisoning keys, and no string or key PostgreSQL cannot store (NUL, an unpaired
 * surrogate). Anything else is a 400 that says which.
 */
export function parseJsonBody(body: Buffer): unknown {
  const text = decodeUtf8(body);
  if (text.trim() === '') throw bad('The request body is empty; send a JSON document');
  const depth = jsonNestingDepth(text, Limits.jsonDepth);
  if (depth > Limits.jsonDepth) throw bad(`The request body nests objects and arrays more than ${Limits.jsonDepth} deep (the limit)`);
  let value: unknown;
  try {
    value = secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' });
  } catch (e) {
    throw bad(`The request body is not valid JSON: ${(e as Error).message.slice(0, 200)}`);
  }
  const problem = problemWithJsonStrings(value);
  if (problem) throw bad(`The request body cannot be stored: ${problem}`);
  return value;
}

/**
 * A form body (the token endpoint's): valid UTF-8, decoded by URLSearchParams. A name given twice
 * is a 400 (RFC 6749 §3.2: parameters "MUST NOT be included more than once"), never a silent pick.
 */
export function parseFormBody(body: Buffer): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  for (const [name, value] of new URLSearchParams(decodeUtf8(body))) {
    if (Object.hasOwn(out, name)) throw bad(`The form parameter ${JSON.stringify(name.slice(0, 64))} is given more than once`);
    out[name] = value;
  }
  return { ...out };
}

/**
 * The gateway's only body parsers: JSON and form bodies, up to `bodyLimit` bytes (413 beyond), and
 * multipart bodies, which are never parsed whole: the upload routes read their parts as a stream
 * (GatewayFiles.upload, with its own limits).
 */
export async function registerBodyParsers(fastify: FastifyInstance, bodyLimit: number): Promise<void> {
  const parser = (parse: (body: Buffer) => unknown) => (_req: unknown, body: Buffer, done: (err: Error | null, value?: unknown) => void) => {
    let value: unknown;
    try {
      value = parse(body);
    } catch (e) {
      return done(e as Error);
    }
    done(null, value);
  };
  fastify.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit }, parser(parseJsonBody));
  fastify.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'buffer', bodyLimit }, parser(parseFormBody));
  // Field names and headers of a part are bounded here; the rest per route.
  await fastify.register(multipart, { limits: { fieldNameSize: 100, headerPairs: 32 } });
}

/**
 * What Node's HTTP parser refuses before Fastify sees a request (headers or a URL over 16 KB,
 * raw non-ASCII bytes in the request line, a malformed request) is answered in Parley's JSON
 * error shape with `Connection: close`, so a keep-alive client does not send its next request
 * on a connection the server is closing.
 */
export function clientErrorHandler(err: Error & { code?: string }, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, message] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'The request line and headers are larger than the server accepts (16 KB)']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'The request did not arrive in time']
        : [400, `The request is not valid HTTP/1.1 (${err.code ?? 'parse error'}): a request line and headers must be ASCII, with a valid method, target and version`];
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify({ statusCode: status, error: STATUS_CODES[status], message, error_description: message });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
