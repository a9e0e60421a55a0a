import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash, randomUUID } from 'node:crypto';
import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import type { NatsContext } from '@nestjs/microservices';
import { type Observable, from, lastValueFrom } from 'rxjs';
import stringify from 'safe-stable-stringify';
import { v5 as uuidv5 } from 'uuid';
import { type ErrorEnvelope, ParleyError, type RequestContext, TRANSACTION_ID_HEADER } from '@parley/contracts';
import { KeyedMutex, type SqlEventStore, type SqlExecutor, createTables } from '@parley/eventsourcing';
import { requestContextOf } from '@parley/messaging';
import type { Clock } from './kit';

/*
 * Idempotent commands: X-Auvious-TransactionId, for every command of every service on the kit.
 *
 * A command that carries a transaction id is answered once and remembered: its answer (the reply,
 * or a refusal that a retry would meet again) is stored under (organization, caller, transaction
 * id) with a fingerprint of the subject and the body. A retry within the retention window gets
 * that answer without running again; the same id with another subject or body is refused (422).
 *
 * The answer of a command that appends is written in the append's own transaction (the Aggregate
 * does it, see CommandScope.record), so there is no moment at which the events are stored and the
 * answer is not: a process killed after the commit leaves the answer for the retry, one killed
 * before leaves neither. The events' ids derive from the key and their place in the stream (UUIDv5),
 * so two attempts of one command decide the same ids and the store's idempotent append recognises
 * the second.
 *
 * Concurrency: attempts of one key in one process take turns (the second waits for the first's
 * answer); attempts in two replicas both run, and the database lets one commit (the key is the
 * table's primary key, the second's transaction fails on it and answers with the first's answer).
 */

/** What a command answered: its reply, or the refusal it met. */
export type StoredAnswer = { response: unknown } | { error: ErrorEnvelope };

export interface CommandKey {
  organizationId: string;
  callerId: string;
  transactionId: string;
}

// `answer` is JSON text, not jsonb: jsonb would reorder the keys, and a retry gets the same bytes.
const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS command_answers (
     organization_id text NOT NULL,
     caller_id text NOT NULL,
     transaction_id text NOT NULL,
     fingerprint text NOT NULL,
     answer text NOT NULL,
     answered_at timestamptz NOT NULL,
     PRIMARY KEY (organization_id, caller_id, transaction_id)
   )`,
  `CREATE INDEX IF NOT EXISTS command_answers_answered_at_idx ON command_answers (answered_at)`,
];

// An expired answer is as good as none: a new one takes its place.
const INSERT = `
  INSERT INTO command_answers (organization_id, caller_id, transaction_id, fingerprint, answer, answered_at)
  VALUES ($1, $2, $3, $4, $5, $6::timestamptz)
  ON CONFLICT (organization_id, caller_id, transaction_id) DO UPDATE
    SET fingerprint = excluded.fingerprint, answer = excluded.answer, answered_at = excluded.answered_at
    WHERE command_answers.answered_at <= $7::timestamptz
  RETURNING 1 AS stored`;

const FIND = `
  SELECT fingerprint, answer FROM command_answers
  WHERE organization_id = $1 AND caller_id = $2 AND transaction_id = $3 AND answered_at > $4::timestamptz`;

const SWEEP = `
  DELETE FROM command_answers WHERE ctid IN (
    SELECT ctid FROM command_answers WHERE answered_at <= $1::timestamptz LIMIT $2)
  RETURNING 1`;

/** The UUIDv5 namespace of event ids derived from a command's key (CommandScope.eventId). */
const EVENT_ID_NAMESPACE = 'b7e1c6a4-1f0e-4c4e-9a8e-5d1f3c2a9e71';

/** The answer of this key is stored already (another attempt of the command committed it): ask for it. */
export class CommandAlreadyAnswered extends Error {
  constructor() {
    super('this transaction id was answered by another attempt');
    this.name = 'CommandAlreadyAnswered';
  }
}

/** The stored answers of one service (its event store's database), kept `retentionMs`. */
export class CommandAnswers {
  constructor(
    private readonly store: SqlEventStore,
    readonly retentionMs: number,
    private readonly clock: Clock,
  ) {}

  /** Creates the table if needed (idempotent; concurrent starts take turns). */
  init(): Promise<void> {
    return this.store.transaction((sql) => createTables(sql, 'parley.service-kit.command-answers', SCHEMA));
  }

  async find(key: CommandKey): Promise<{ fingerprint: string; answer: StoredAnswer } | undefined> {
    const { rows } = await this.store.query<{ fingerprint: string; answer: string }>(FIND, [key.organizationId, key.callerId, key.transactionId, this.cutoff()]);
    return rows[0] && { fingerprint: rows[0].fingerprint, answer: JSON.parse(rows[0].answer) as StoredAnswer };
  }

  /** Stores the answer unless a live one is stored under the key already (then false). Pass `sql` to store it in your transaction. */
  async insert(key: CommandKey, fingerprint: string, answer: StoredAnswer, sql?: SqlExecutor): Promise<boolean> {
    const params = [key.organizationId, key.callerId, key.transactionId, fingerprint, JSON.stringify(answer), new Date(this.clock.now()).toISOString(), this.cutoff()];
    const { rows } = await (sql ?? this.store).query(INSERT, params);
    return rows.length === 1;
  }

  /** Deletes expired answers, `batch` at a time; answers how many. */
  async sweep(batch = 10_000): Promise<number> {
    let deleted = 0;
    for (;;) {
      const { rows } = await this.store.query(SWEEP, [this.cutoff(), batch]);
      deleted += rows.length;
      if (rows.length < batch) return deleted;
    }
  }

  /** Answers given at or before this instant are expired (ISO text: both drivers take it alike). */
  private cutoff(): string {
    return new Date(this.clock.now() - this.retentionMs).toISOString();
  }
}

/** The command being handled under a transaction id: what the Aggregate needs to make its append idempotent. */
export class CommandScope {
  /** Set when the answer was stored with the command's append. */
  answered?: StoredAnswer;

  constructor(
    readonly key: CommandKey,
    readonly fingerprint: string,
    private readonly answers: CommandAnswers,
  ) {}

  /**
   * The id of the command's event at `streamVersion` of `streamId`: every attempt of the command
   * that appends there decides the same id (so the store's idempotent append recognises a second
   * one), while the same transaction id reused after the retention window, which appends
   * elsewhere, gets new ids.
   */
  eventId(streamId: string, streamVersion: number): string {
    const { organizationId, callerId, transactionId } = this.key;
    return uuidv5([organizationId, callerId, transactionId, streamId, streamVersion].join('\u0000'), EVENT_ID_NAMESPACE);
  }

  /** Stores the command's answer in the append's transaction; CommandAlreadyAnswered when another attempt stored one. */
  async record(sql: SqlExecutor, response: unknown): Promise<void> {
    const answer: StoredAnswer = { response: response ?? null };
    if (!(await this.answers.insert(this.key, this.fingerprint, answer, sql))) throw new CommandAlreadyAnswered();
    this.answered = answer;
  }
}

/** The scope of the command the current async call chain handles, if it carries a transaction id. */
export const commandScope = new AsyncLocalStorage<CommandScope>();

/** The id of an event appended at `streamVersion` of `streamId`: derived from the command's transaction id when it has one (CommandScope.eventId), else random. */
export const commandEventId = (streamId: string, streamVersion: number): string => commandScope.getStore()?.eventId(streamId, streamVersion) ?? randomUUID();

/** Commands are `parley.<service>.cmd.<name>` (subjects.ts); queries and the rest are answered as they come. */
const isCommandSubject = (subject: string): boolean => subject.split('.')[2] === 'cmd';

/**
 * An upload's body without where its bytes were put: the gateway stores each attempt's file under a
 * key of its own before it sends the command (`file.key`), so a retry of the same upload differs
 * from the first only there. The file's size, hash and type stay in the fingerprint: another file
 * under the same transaction id is another request.
 */
function withoutUploadKey(body: unknown): unknown {
  if (typeof body !== 'object' || body === null || !('file' in body)) return body;
  const file = (body as { file: unknown }).file;
  if (typeof file !== 'object' || file === null || !('key' in file)) return body;
  const { key: _key, ...rest } = file as Record<string, unknown>;
  return { ...body, file: rest };
}

/** The fingerprint a retry must match: the subject and the body (keys in any order), an upload's key aside (withoutUploadKey). */
export const fingerprintOf = (subject: string, body: unknown): string => createHash('sha256').update(`${subject}\n${stringify(withoutUploadKey(body ?? null))}`).digest('base64url');

/**
 * Refusals a retry would meet again are answers too (a 404, a 409 because the conference ended):
 * stored. Input errors (400, checked again on every attempt), and what says "try again" (429, 503,
 * 504, an internal error, a refusal marked retryable) are not: a retry runs the command anew.
 */
const isFinalRefusal = (e: unknown): e is ParleyError =>
  e instanceof ParleyError && ['FORBIDDEN', 'NOT_FOUND', 'CONFLICT', 'UNPROCESSABLE', 'PAYLOAD_TOO_LARGE'].includes(e.code) && e.details?.retryable !== true;

function replay(stored: { fingerprint: string; answer: StoredAnswer }, fingerprint: string, transactionId: string): unknown {
  if (stored.fingerprint !== fingerprint) {
    throw new ParleyError('UNPROCESSABLE', `${TRANSACTION_ID_HEADER} ${transactionId} was used for another request; a new request needs a new transaction id`, { fields: [TRANSACTION_ID_HEADER] });
  }
  if ('error' in stored.answer) throw ParleyError.fromEnvelope(stored.answer.error);
  return stored.answer.response;
}

export interface IdempotentCommandsOptions {
  /**
   * Fault injection for the crash tests: the process kills itself (SIGKILL) right after a command
   * on this subject stored its answer with its events, before answering. Never set in production.
   */
  crashAfterCommit?: string;
}

/**
 * The kit's interceptor of every command handler of an event-sourced service: commands with a
 * transaction id are answered once (see the top of this file); anything else passes through.
 */
@Injectable()
export class IdempotentCommands implements NestInterceptor {
  private readonly turns = new KeyedMutex();

  constructor(
    private readonly answers: CommandAnswers,
    private readonly options: IdempotentCommandsOptions = {},
  ) {}

  intercept(execution: ExecutionContext, next: CallHandler): Observable<unknown> {
    const rpc = execution.switchToRpc();
    const nats = rpc.getContext<NatsContext>();
    const subject = nats.getSubject();
    let ctx: RequestContext;
    try {
      ctx = requestContextOf(nats);
    } catch {
      return next.handle(); // the handler fails closed itself
    }
    const { transactionId } = ctx;
    if (transactionId === undefined || !isCommandSubject(subject)) return next.handle();
    const key: CommandKey = { organizationId: ctx.actor.organizationId, callerId: ctx.actor.userId, transactionId };
    const fingerprint = fingerprintOf(subject, rpc.getData());
    return from(this.turns.run(stringify(key), () => this.answerOnce(key, fingerprint, subject, next)));
  }

  private async answerOnce(key: CommandKey, fingerprint: string, subject: string, next: CallHandler): Promise<unknown> {
    const earlier = await this.answers.find(key);
    if (earlier) return replay(earlier, fingerprint, key.transactionId);
    const scope = new CommandScope(key, fingerprint, this.answers);
    let response: unknown;
    try {
      // The handler runs when next.handle() is subscribed to, inside the scope.
      response = await commandScope.run(scope, () => lastValueFrom(next.handle(), { defaultValue: null }));
    } catch (e) {
      // Another attempt may have answered meanwhile (a replica, or the store's idempotent append).
      const stored = await this.answers.find(key);
      if (stored) return replay(stored, fingerprint, key.transactionId);
      if (!isFinalRefusal(e)) throw e;
      return this.store(key, fingerprint, { error: e.toEnvelope() });
    }
    if (scope.answered) {
      if (this.options.crashAfterCommit === subject) process.kill(process.pid, 'SIGKILL');
      return (scope.answered as { response: unknown }).response;
    }
    // A command that stored nothing of its own (no events, or a delivery): its answer alone.
    return this.store(key, fingerprint, { response: response ?? null });
  }

  /** Stores `answer` and gives it, or gives the one another attempt stored first. */
  private async store(key: CommandKey, fingerprint: string, answer: StoredAnswer): Promise<unknown> {
    const stored = (await this.answers.insert(key, fingerprint, answer)) ? undefined : await this.answers.find(key);
    return replay(stored ?? { fingerprint, answer }, fingerprint, key.transactionId);
  }
}
