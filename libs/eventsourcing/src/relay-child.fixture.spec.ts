/**
 * Runs an EventRelay in a child process for relay.int.spec.ts, which SIGKILLs it.
 *
 * To make the crash land in the worst place deterministically, the relay's N-th checkpoint
 * save never completes: that batch has been published and acknowledged by JetStream, but its
 * checkpoint is not saved when the process dies. The file name ends in `.spec.ts` only so the
 * library build leaves it out; jest's tier patterns do not run it.
 */
import { connect } from 'nats';
import { eventSubject } from './event-subjects';
import { PostgresEventStore } from './postgres-event-store';
import { EventRelay } from './relay';
import type { AllStreamPosition } from './types';

export interface RelayChildMessage {
  type: 'started' | 'hanging';
  /** For 'hanging': the position whose save never completes. */
  position?: { transactionId: string; globalPosition: string };
}

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
}

async function main(): Promise<void> {
  const store = new PostgresEventStore(env('DATABASE_URL'));
  const nats = await connect({ servers: env('NATS_URL') });
  const hangOnSave = Number(env('HANG_ON_SAVE'));
  const send = (msg: RelayChildMessage) => process.send?.(msg);

  let saves = 0;
  const save = store.saveCheckpoint.bind(store);
  store.saveCheckpoint = (name: string, position: AllStreamPosition, sql) => {
    if (++saves < hangOnSave) return save(name, position, sql);
    send({ type: 'hanging', position: { transactionId: position.transactionId, globalPosition: position.globalPosition.toString() } });
    return new Promise<void>(() => undefined);
  };

  const relay = new EventRelay({
    store,
    nats,
    name: env('RELAY_NAME'),
    subjectFor: (e) => eventSubject('test', e.streamId, e.type),
    batchSize: Number(process.env.BATCH_SIZE ?? 10),
    pollIntervalMs: 10,
    leadershipRetryMs: 100,
    // A save after every batch, so the HANG_ON_SAVE-th save comes while the writers still write
    // (saves coalesced over 100 ms could all be done before it, and the test would wait for ever).
    checkpointIntervalMs: 0,
  });
  relay.start();
  send({ type: 'started' });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
