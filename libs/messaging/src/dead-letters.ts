import type { NatsConnection } from 'nats';
import { DEAD_LETTER_STREAM, replaySubject } from '@parley/contracts';
import { type CallerAssertions, operatorHeaders } from './caller-assertion';
import { DeadLetterHeaders, type ReplayAnswer } from './durable-consumer';

/** A message a consumer could not handle, as PARLEY_DEAD_LETTERS keeps it. */
export interface DeadLetter {
  /** Its sequence in PARLEY_DEAD_LETTERS (what replay and drop take). */
  sequence: number;
  consumer: string;
  /** Where it was first delivered from, and its sequence there. */
  subject: string;
  streamSequence: number;
  deliveries: number;
  error: string;
  at: string;
  data: Uint8Array;
}

const NOT_FOUND = /no message found|not found/i;

async function read(nc: NatsConnection, sequence: number): Promise<DeadLetter | undefined> {
  const jsm = await nc.jetstreamManager();
  try {
    const m = await jsm.streams.getMessage(DEAD_LETTER_STREAM, { seq: sequence });
    const h = (k: string) => m.header.get(k) ?? '';
    return {
      sequence,
      consumer: h(DeadLetterHeaders.consumer),
      subject: h(DeadLetterHeaders.subject),
      streamSequence: Number(h(DeadLetterHeaders.streamSequence)),
      deliveries: Number(h(DeadLetterHeaders.deliveries)),
      error: h(DeadLetterHeaders.error),
      at: h(DeadLetterHeaders.at),
      data: m.data,
    };
  } catch (err) {
    if (NOT_FOUND.test(String(err))) return undefined;
    throw err;
  }
}

/** The dead letters kept, oldest first (of one consumer when named), at most `limit`. */
export async function listDeadLetters(nc: NatsConnection, options: { consumer?: string; limit?: number } = {}): Promise<DeadLetter[]> {
  const jsm = await nc.jetstreamManager();
  const { first_seq, last_seq, messages } = (await jsm.streams.info(DEAD_LETTER_STREAM)).state;
  const out: DeadLetter[] = [];
  if (messages === 0) return out;
  for (let seq = first_seq; seq <= last_seq && out.length < (options.limit ?? 100); seq++) {
    const d = await read(nc, seq);
    if (d && (!options.consumer || d.consumer === options.consumer)) out.push(d);
  }
  return out;
}

/**
 * Hands dead letter `sequence` back to its consumer (`parley.replay.<consumer>`), which runs
 * its handler on it once; when that succeeds the dead letter is deleted. Answers what the
 * handler said (its error when it failed again: the dead letter stays).
 */
export async function replayDeadLetter(nc: NatsConnection, operator: CallerAssertions, sequence: number, timeoutMs = 30_000): Promise<ReplayAnswer> {
  const jsm = await nc.jetstreamManager();
  const m = await jsm.streams.getMessage(DEAD_LETTER_STREAM, { seq: sequence }).catch((err: unknown) => {
    throw NOT_FOUND.test(String(err)) ? new Error(`no dead letter ${sequence}`) : err;
  });
  const consumer = m.header.get(DeadLetterHeaders.consumer);
  if (!consumer) throw new Error(`message ${sequence} of ${DEAD_LETTER_STREAM} names no consumer`);
  // Only the operator may hand a consumer a message: the replay is signed (its own headers kept).
  const subject = replaySubject(consumer);
  const reply = await nc.request(subject, m.data, { headers: await operatorHeaders(operator, subject, m.data, m.header), timeout: timeoutMs });
  const answer = JSON.parse(new TextDecoder().decode(reply.data)) as ReplayAnswer;
  if (answer.ok) await jsm.streams.deleteMessage(DEAD_LETTER_STREAM, sequence);
  return answer;
}

/** Deletes dead letter `sequence` without handling it. */
export async function dropDeadLetter(nc: NatsConnection, sequence: number): Promise<boolean> {
  const jsm = await nc.jetstreamManager();
  return jsm.streams.deleteMessage(DEAD_LETTER_STREAM, sequence);
}
