import type {} from '@fastify/multipart';
import type { IncomingMessage } from 'node:http';
import { Inject, Injectable, type OnModuleDestroy, type Type } from '@nestjs/common';
import contentDisposition from 'content-disposition';
import type { FastifyReply, FastifyRequest } from 'fastify';
import rangeParser from 'range-parser';
import {
  type BlobKind,
  type BlobRef,
  ParleyError,
  type RequestContext,
  type SignedUrl,
  SnapshotQueries,
  type UploadAnswer,
  type UploadTarget,
  type UploadedFile,
  httpStatusOf,
} from '@parley/contracts';
import { type NatsRpcClient, parleyValidationPipe, serviceActor } from '@parley/messaging';
import { type BlobStore, S3BlobStore, UrlSigner, blobStoreFrom, cleanFileName, parseSigningKeys, sniffContent } from '@parley/storage';
import type { GatewayConfig } from './config';
import { sendError } from './http-error.filter';
import { API_PREFIX } from './http-params';
import { GATEWAY_CONFIG, RPC_CLIENT } from './tokens';
import { UserQuotas } from './user-quotas';

const bad = (message: string, field?: string) => new ParleyError('BAD_REQUEST', message, field ? { fields: [field] } : undefined);

/** The public development key of signed URLs: what development mode signs with when SIGNED_URL_KEYS is unset (production refuses to start without one). */
const DEVELOPMENT_SIGNED_URL_KEYS = `dev:${Buffer.from('parley development signed url key, public: never use').toString('base64')}`;

/** The most fields a multipart upload may have besides its file, and the most bytes in one. */
const MAX_FIELDS = 16;
const MAX_FIELD_BYTES = 4096;

/** What one multipart upload route sends where. */
export interface UploadRoute {
  /** The part that holds the file (`image`, `file`). */
  fileField: string;
  /** The class its other fields are checked against. */
  fields: Type<object>;
  /** What comes from the path or the query (the asset's id). */
  extra?: Record<string, unknown>;
  /** The question before the upload (UploadTargetQueries), and the command after it. */
  target: string;
  command: string;
}

/** A refusal the service gave (it answered, a quota's 429 too): the blob a refused command named is no one's. */
const refusedByService = (e: unknown): boolean => e instanceof ParleyError && httpStatusOf(e.code) >= 400 && httpStatusOf(e.code) < 500;

/**
 * Files in and out of the gateway (docs/architecture.md): a multipart upload is streamed to the
 * blob store, typed by its content, under the key the owning service gave once it found nothing to
 * refuse, and then named by the command's event; a download of a signed URL is checked before a
 * byte is read, and streamed with its type, length and ranges.
 */
@Injectable()
export class GatewayFiles implements OnModuleDestroy {
  readonly blobs: BlobStore;
  private readonly signer: UrlSigner;
  private readonly validation = parleyValidationPipe();

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(RPC_CLIENT) private readonly rpc: NatsRpcClient,
    @Inject(UserQuotas) private readonly quotas: UserQuotas,
  ) {
    this.blobs = blobStoreFrom(config);
    this.signer = new UrlSigner(config.signedUrlKeys ?? parseSigningKeys(DEVELOPMENT_SIGNED_URL_KEYS));
  }

  /**
   * Receives a multipart upload: its fields first (checked, then the service asked), then its file
   * (the last part), streamed to the store; then the command. Answers the command's reply. A
   * refusal deletes the stored file; so does a retry's answer, which names the first attempt's.
   */
  async upload<R>(req: FastifyRequest, ctx: RequestContext, route: UploadRoute): Promise<R> {
    // The client may still be sending when it is refused: it reads the refusal once its body is in
    // (up to a bound), which is drained while the caller's quota place is still held.
    const drained = async (e: unknown): Promise<never> => {
      await drain(req.raw, this.config.uploadMaxBytes + DRAIN_SLACK_BYTES, DRAIN_MS);
      throw e;
    };
    try {
      return await this.quotas.uploads.hold(ctx.actor, () => this.receive<R>(req, ctx, route).catch(drained));
    } catch (e) {
      return drained(e); // refused before (no quota place): drained all the same
    }
  }

  /**
   * An upload that takes longer than UPLOAD_TIMEOUT_MS to arrive is cut off (its connection closed,
   * its partial blob dropped): a trickle cannot hold a quota place, a file and the store's
   * connection for ever, and the sweeper, which judges blobs older than BLOB_SWEEP_AGE_MS, never
   * meets one still arriving.
   */
  private async receive<R>(req: FastifyRequest, ctx: RequestContext, route: UploadRoute): Promise<R> {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      req.raw.destroy();
    }, this.config.uploadTimeoutMs);
    try {
      return await this.receiveParts<R>(req, ctx, route);
    } catch (e) {
      if (timedOut) throw new ParleyError('REQUEST_TIMEOUT', `The upload took longer than ${this.config.uploadTimeoutMs} ms to arrive (UPLOAD_TIMEOUT_MS)`);
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  private async receiveParts<R>(req: FastifyRequest, ctx: RequestContext, route: UploadRoute): Promise<R> {
    if (!req.isMultipart()) throw bad(`Send multipart/form-data: the fields, then the file in the part "${route.fileField}"`);
    const fields: Record<string, string> = {};
    let body: Record<string, unknown> | undefined;
    let stored: UploadedFile | undefined;
    // What the client's body did wrong (a part cut short, a boundary that never comes): 400, not the server's fault.
    let broken: unknown;
    const parts = req.parts({ limits: { fields: MAX_FIELDS, fieldSize: MAX_FIELD_BYTES, files: 1, fileSize: this.config.uploadMaxBytes + 1, parts: MAX_FIELDS + 1 } })[Symbol.asyncIterator]();
    try {
      for (;;) {
        const next = await parts.next().catch((e: unknown) => {
          throw malformed(e);
        });
        if (next.done) break;
        const part = next.value;
        if (stored !== undefined || body !== undefined) throw bad(`The file ("${route.fileField}") must be the last part; "${part.fieldname}" came after it`, part.fieldname);
        if (part.type === 'field') {
          if (Object.hasOwn(fields, part.fieldname)) throw bad(`The field "${part.fieldname.slice(0, 64)}" is given more than once`, part.fieldname);
          if (part.valueTruncated) throw bad(`The field "${part.fieldname.slice(0, 64)}" is longer than ${MAX_FIELD_BYTES} bytes`, part.fieldname);
          fields[part.fieldname] = String(part.value);
          continue;
        }
        if (part.fieldname !== route.fileField) throw bad(`The file goes in the part "${route.fileField}", not "${part.fieldname.slice(0, 64)}"`, route.fileField);
        body = { ...((await this.validation.transform({ ...fields }, { type: 'body', metatype: route.fields })) as object), ...route.extra };
        const target = await this.rpc.request<UploadTarget>(route.target, body, ctx);
        part.file.once('error', (e) => (broken = e));
        const sniffed = await sniffContent(part.file).catch((e: unknown) => {
          throw malformed(broken ?? e);
        });
        if (target.imagesOnly && !sniffed.mimeType?.startsWith('image/')) {
          sniffed.body.resume();
          throw bad(`"${route.fileField}" must be an image; its content is ${sniffed.mimeType ?? 'not a type an image has'}`, route.fileField);
        }
        const mimeType = sniffed.mimeType ?? 'application/octet-stream';
        const blob = await this.blobs.put(target.key, sniffed.body, { maxBytes: this.config.uploadMaxBytes, contentType: mimeType }).catch((e: unknown) => {
          throw broken !== undefined ? malformed(broken) : e;
        });
        stored = {
          key: target.key,
          size: blob.size,
          sha256: blob.sha256,
          mimeType,
          ...(sniffed.extension !== undefined ? { extension: sniffed.extension } : {}),
          ...(part.filename ? { filename: cleanFileName(part.filename) } : {}),
        };
      }
    } catch (e) {
      if (stored !== undefined) await this.forget(stored.key);
      throw e;
    }
    if (body === undefined || stored === undefined) throw bad(`No file: send it in the part "${route.fileField}", after the other fields`, route.fileField);
    let answer: UploadAnswer<R>;
    try {
      answer = await this.rpc.request<UploadAnswer<R>>(route.command, { ...body, file: stored }, ctx);
    } catch (e) {
      // A timeout or a crash may have come after the event was stored: the sweeper judges those.
      if (refusedByService(e)) await this.forget(stored.key);
      throw e;
    }
    if (answer.storedKey !== stored.key) await this.forget(stored.key);
    return answer.reply;
  }

  onModuleDestroy(): void {
    this.blobs.close();
  }

  private async forget(key: string): Promise<void> {
    await this.blobs.delete(key).catch(() => undefined);
  }

  /**
   * The Referer a signedUrl request must carry (the spec requires it), from an allowed origin:
   * SIGNED_URL_ORIGINS, or the gateway's own. Missing is 400, another origin 403.
   */
  checkReferer(req: FastifyRequest): void {
    const referer = req.headers.referer;
    if (typeof referer !== 'string' || referer === '') throw bad('The Referer header is required: the page asking for a signed URL', 'Referer');
    let origin: string;
    try {
      origin = new URL(referer).origin;
    } catch {
      throw bad('The Referer header is not a URL', 'Referer');
    }
    const allowed = this.config.signedUrlOrigins.length > 0 ? this.config.signedUrlOrigins : [this.publicOrigin(req)];
    if (!allowed.includes(origin)) throw new ParleyError('FORBIDDEN', `Signed URLs are not given to pages of ${origin} (SIGNED_URL_ORIGINS)`, { fields: ['Referer'] });
  }

  /** The gateway's public origin: PUBLIC_URL's, or the request's own scheme and host. */
  private publicOrigin(req: FastifyRequest): string {
    return this.config.publicUrl ? new URL(this.config.publicUrl).origin : `${req.protocol}://${req.host}`;
  }

  /**
   * A signed URL of what `ref` names, valid SIGNED_URL_TTL_SECONDS: Parley's own
   * (`GET /rtc-api/<kind>s/signed/<id>/<expiration>?signature=`) when asked for or when the store is
   * the filesystem, else the S3 service's presigned URL.
   */
  async signedUrl(req: FastifyRequest, ref: BlobRef, internal: boolean): Promise<SignedUrl> {
    const ttl = this.config.signedUrlTtlSeconds;
    const expiration = Math.floor(Date.now() / 1000) + ttl;
    const validUntil = new Date(expiration * 1000).toISOString();
    if (!internal && this.blobs instanceof S3BlobStore) {
      const url = await this.blobs.presignedUrl(ref.key, ttl, { contentType: ref.mimeType, contentDisposition: contentDisposition(ref.filename) });
      return { url, validUntil };
    }
    const signature = this.signer.sign({ kind: ref.kind, organizationId: ref.organizationId, id: ref.id, expiration, version: versionOf(ref) });
    return { url: `${this.publicOrigin(req)}/${API_PREFIX}/${signedPathOf(ref.kind)}/${encodeURIComponent(ref.id)}/${expiration}?signature=${encodeURIComponent(signature)}`, validUntil };
  }

  /**
   * Serves a signed URL: the signature is checked first (an expired, tampered or foreign one is
   * 403 and nothing is read), then the service is asked whether the thing is still there (a
   * discarded snapshot, a deleted asset: 404), then the bytes stream, all or the range asked for.
   */
  async serve(req: FastifyRequest, reply: FastifyReply, kind: BlobKind, id: string, expirationText: string, signature: unknown): Promise<void> {
    if (!/^\d{1,12}$/.test(expirationText)) throw bad('The expiration must be seconds since the epoch', 'expiration');
    if (typeof signature !== 'string' || signature === '') throw new ParleyError('FORBIDDEN', 'This URL has no signature');
    const verdict = this.signer.verify(kind, id, Number(expirationText), signature, Math.floor(Date.now() / 1000));
    if (!verdict.ok) throw new ParleyError('FORBIDDEN', verdict.why === 'expired' ? 'This signed URL has expired' : 'This URL is not signed by Parley (or not for this file)');
    const ctx: RequestContext = { actor: serviceActor('gateway', verdict.organizationId), correlationId: req.id, causationId: req.id };
    const ref = await this.rpc.request<BlobRef>(SnapshotQueries.blob, { kind, id }, ctx);
    // Signed for another file of the thing (an asset replaced since): not this one's URL.
    if (verdict.version !== versionOf(ref)) throw new ParleyError('NOT_FOUND', `This URL was made for a file ${kind} ${id} no longer has`);
    const ranges = typeof req.headers.range === 'string' ? rangeParser(ref.size, req.headers.range, { combine: true }) : undefined;
    if (ranges === -1) {
      void reply.header('content-range', `bytes */${ref.size}`);
      return sendError(reply, { status: 416, message: `The range ${req.headers.range?.slice(0, 64)} is not within the file's ${ref.size} bytes` });
    }
    // One range is served; a request for several (rare, multipart/byteranges) gets the whole file.
    const range = Array.isArray(ranges) && ranges.type === 'bytes' && ranges.length === 1 ? ranges[0] : undefined;
    const content = await this.blobs.get(ref.key, range);
    void reply
      .header('content-type', ref.mimeType)
      .header('content-disposition', contentDisposition(ref.filename))
      .header('x-content-type-options', 'nosniff')
      .header('accept-ranges', 'bytes')
      .header('cache-control', 'private, no-store')
      // A signed URL is made to be used by the pages of SIGNED_URL_ORIGINS too (an <img>, a link).
      .header('cross-origin-resource-policy', 'cross-origin');
    if (range) void reply.status(206).header('content-range', `bytes ${range.start}-${range.end}/${ref.size}`).header('content-length', String(range.end - range.start + 1));
    else void reply.header('content-length', String(ref.size));
    return reply.send(content.body);
  }
}

/** How much more than an upload may be, and how long, the gateway reads of a refused request's body before it answers (a client that sends more is cut off). */
const DRAIN_SLACK_BYTES = 1024 * 1024;
const DRAIN_MS = 10_000;

/**
 * Reads and drops what is left of a request's body, so that a client still sending it then reads
 * the answer (an HTTP/1.1 client that is answered mid-body sees its connection reset); past
 * `maxBytes` or `maxMs` the request is destroyed instead.
 */
function drain(raw: IncomingMessage, maxBytes: number, maxMs: number): Promise<void> {
  if (raw.readableEnded || raw.destroyed) return Promise.resolve();
  raw.unpipe();
  return new Promise<void>((resolve) => {
    let seen = 0;
    const done = () => {
      clearTimeout(timer);
      raw.off('data', onData);
      raw.off('end', done);
      raw.off('close', done);
      resolve();
    };
    const onData = (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > maxBytes) {
        raw.destroy();
        done();
      }
    };
    const timer = setTimeout(() => {
      raw.destroy();
      done();
    }, maxMs);
    raw.on('data', onData);
    raw.once('end', done);
    raw.once('close', done);
    raw.resume();
  });
}

/** A multipart body the parser could not read: the parser's own 4xx (a limit: 413), else 400 saying what it found. */
function malformed(e: unknown): unknown {
  const status = (e as { statusCode?: unknown })?.statusCode;
  if (e instanceof ParleyError || (typeof status === 'number' && status >= 400 && status < 500)) return e;
  return bad(`The multipart body is malformed: ${e instanceof Error ? e.message : String(e)}`);
}

/** Which file of a thing a signed URL is for: its blob's own name (the last segment of its key, new for each upload). */
const versionOf = (ref: BlobRef): string => ref.key.slice(ref.key.lastIndexOf('/') + 1);

/** Where a kind's signed URLs are served: `snapshots/signed`, `filetransfers/signed`, `assets/signed`. */
export const signedPathOf = (kind: BlobKind): string => `${kind}s/signed`;

