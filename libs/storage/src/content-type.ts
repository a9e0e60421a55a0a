import { Readable } from 'node:stream';
import { fileTypeFromBuffer } from 'file-type';

export interface Sniffed {
  /** The bytes, all of them, to be stored (the ones read to tell the type come first again). */
  body: Readable;
  /** What the first bytes say the content is (file-type's signatures), or undefined when they say nothing it knows. */
  mimeType?: string;
  extension?: string;
}

/** How much of the start file-type needs to tell every type it knows (its own "reasonable detection size"). */
const SAMPLE_BYTES = 4100;

/**
 * Tells what a stream holds from its first bytes, without reading the rest: a file's type is its
 * content's, not the name or type a client gives. Reads until it has SAMPLE_BYTES (however small
 * the chunks come, as a multipart body's first ones may) or the end, then gives every byte back
 * as a stream that keeps the source's back-pressure and errors.
 */
export async function sniffContent(body: Readable): Promise<Sniffed> {
  const source = body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const head: Buffer[] = [];
  let size = 0;
  let ended = false;
  while (size < SAMPLE_BYTES) {
    const next = await source.next();
    if (next.done) {
      ended = true;
      break;
    }
    head.push(next.value);
    size += next.value.length;
  }
  const start = Buffer.concat(head);
  const type = await fileTypeFromBuffer(start);
  async function* all(): AsyncGenerator<Buffer> {
    if (start.length > 0) yield start;
    if (ended) return;
    for (let next = await source.next(); !next.done; next = await source.next()) yield next.value;
  }
  return { body: Readable.from(all()), ...(type ? { mimeType: type.mime, extension: type.ext } : {}) };
}

/** Half of a surrogate pair without the other half (not text: JSON and headers refuse it). */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** The most characters of a file name kept. */
export const FILE_NAME_CHARS = 255;

/**
 * A client's file name as it is kept (for Content-Disposition): its last path segment, without
 * control characters, at most FILE_NAME_CHARS characters (whole ones: never half of a surrogate
 * pair), 'file' when nothing is left.
 */
export function cleanFileName(name: string): string {
  const last = name.split(/[\\/]/).pop() ?? '';
  // Whole characters (a surrogate pair is one), control characters (U+0000 to U+001F, U+007F) left out.
  const printable = Array.from(last.replace(LONE_SURROGATE, '\ufffd')).filter((c) => c > '\u001f' && c !== '\u007f');
  return printable.slice(0, FILE_NAME_CHARS).join('') || 'file';
}
