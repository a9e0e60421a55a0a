import { ASSET_CONTEXT, type Asset, FILE_TRANSFER_CONTEXT, type FileTransfer, type FileTransferListQuery, SNAPSHOT_CONTEXT, SNAPSHOT_LIST_MAX, type Snapshot } from '@parley/contracts';
import { QueryParams, type SqlExecutor, jsonColumn } from '@parley/eventsourcing';
import { stateProjection, tableOf } from '@parley/service-kit';
import { type AssetState, type FileTransferState, evolveAsset, evolveFileTransfer, initialAssetState, initialFileTransferState, toAsset, toFileTransfer } from '../domain/files';
import { type SnapshotState, evolveSnapshot, initialSnapshotState, toSnapshot } from '../domain/snapshot';

/*
 * The snapshot service's read models, each a state projection written in its events' transaction:
 * the rows its lists read, and the blob each names (`blob_key`: the sweeper keeps what a row
 * names and removes what none does: a discarded snapshot's image, a replaced or deleted asset's file).
 */

// v2: the bytes of the blob each row names (blob_bytes), which the organization's storage quota sums.
const SNAPSHOTS = { name: 'snapshot_views', version: 2 };
const TRANSFERS = { name: 'file_transfer_views', version: 2 };
const ASSETS = { name: 'asset_views', version: 2 };

export const snapshotViews = stateProjection<SnapshotState>({
  ...SNAPSHOTS,
  context: SNAPSHOT_CONTEXT,
  schema: (t) => [
    `create table ${t} (
      organization_id text not null,
      snapshot_id text not null,
      interaction_id text,
      requester_user_id text not null,
      user_id text not null,
      created_at timestamptz not null,
      blob_key text,
      blob_bytes bigint,
      view jsonb not null,
      version int not null,
      primary key (organization_id, snapshot_id)
    )`,
    `create index ${t}_interaction on ${t} (organization_id, interaction_id, created_at desc) where interaction_id is not null`,
    `create index ${t}_blob on ${t} (blob_key) where blob_key is not null`,
    `create index ${t}_bytes on ${t} (organization_id) include (blob_bytes) where blob_key is not null`,
  ],
  initialState: initialSnapshotState,
  evolve: (s, e) => evolveSnapshot(s, e as Parameters<typeof evolveSnapshot>[1]),
  async save(sql, t, s) {
    // A discarded snapshot's image is no one's (deleted, and no longer counted).
    const kept = s.status === 'DISCARDED' ? undefined : s.file;
    await sql.query(
      `insert into ${t} (organization_id, snapshot_id, interaction_id, requester_user_id, user_id, created_at, blob_key, blob_bytes, view, version) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       on conflict (organization_id, snapshot_id) do update set blob_key = excluded.blob_key, blob_bytes = excluded.blob_bytes, view = excluded.view, version = excluded.version
       where ${t}.version < excluded.version`,
      [s.organizationId, s.id, s.interactionId ?? null, s.requesterUserId, s.userId, s.createdAt, kept?.key ?? null, kept?.size ?? null, JSON.stringify(toSnapshot(s)), s.version],
    );
  },
});

export const fileTransferViews = stateProjection<FileTransferState>({
  ...TRANSFERS,
  context: FILE_TRANSFER_CONTEXT,
  schema: (t) => [
    `create table ${t} (
      organization_id text not null,
      file_transfer_id text not null,
      sender_user_id text not null,
      target_id text not null,
      interaction_id text,
      conference_id text,
      created_at timestamptz not null,
      blob_key text not null,
      blob_bytes bigint not null,
      view jsonb not null,
      primary key (organization_id, file_transfer_id)
    )`,
    `create index ${t}_created on ${t} (organization_id, created_at desc)`,
    `create index ${t}_interaction on ${t} (organization_id, interaction_id) where interaction_id is not null`,
    `create index ${t}_conference on ${t} (organization_id, conference_id) where conference_id is not null`,
    `create index ${t}_blob on ${t} (blob_key)`,
    `create index ${t}_bytes on ${t} (organization_id) include (blob_bytes)`,
  ],
  initialState: initialFileTransferState,
  evolve: (s, e) => evolveFileTransfer(s, e as Parameters<typeof evolveFileTransfer>[1]),
  async save(sql, t, s) {
    const x = s.transfer;
    if (!x) return;
    await sql.query(
      `insert into ${t} values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) on conflict (organization_id, file_transfer_id) do nothing`,
      [x.organizationId, x.fileTransferId, x.senderUserId, x.targetId, x.interactionId ?? null, x.conferenceId ?? null, x.createdAt, x.file.key, x.file.size, JSON.stringify(toFileTransfer(x))],
    );
  },
});

export const assetViews = stateProjection<AssetState>({
  ...ASSETS,
  context: ASSET_CONTEXT,
  schema: (t) => [
    `create table ${t} (
      organization_id text not null,
      asset_id text not null,
      application_id text,
      roles text[] not null,
      live boolean not null,
      blob_key text,
      blob_bytes bigint,
      view jsonb,
      version int not null,
      primary key (organization_id, asset_id)
    )`,
    `create index ${t}_application on ${t} (organization_id, application_id) where live`,
    `create index ${t}_blob on ${t} (blob_key) where blob_key is not null`,
    `create index ${t}_bytes on ${t} (organization_id) include (blob_bytes) where blob_key is not null`,
  ],
  initialState: initialAssetState,
  evolve: (s, e) => evolveAsset(s, e as Parameters<typeof evolveAsset>[1]),
  async save(sql, t, s) {
    const live = s.status === 'LIVE' && s.asset !== undefined;
    await sql.query(
      `insert into ${t} values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       on conflict (organization_id, asset_id) do update set application_id = excluded.application_id, roles = excluded.roles, live = excluded.live, blob_key = excluded.blob_key, blob_bytes = excluded.blob_bytes, view = excluded.view, version = excluded.version
       where ${t}.version < excluded.version`,
      [
        s.organizationId,
        s.id,
        s.asset?.applicationId ?? null,
        s.asset?.rolesAllowedAccess ?? [],
        live,
        s.asset?.file.key ?? null,
        s.asset?.file.size ?? null,
        s.asset ? JSON.stringify(toAsset(s.asset, s.version)) : null,
        s.version,
      ],
    );
  },
});

/** The snapshots of an interaction, newest first (at most SNAPSHOT_LIST_MAX); only those `visibleTo` asked for or was asked for when given. */
export async function snapshotsOfInteraction(sql: SqlExecutor, organizationId: string, interactionId: string, visibleTo: string | undefined): Promise<Snapshot[]> {
  const params = new QueryParams(organizationId, interactionId);
  const p = visibleTo === undefined ? undefined : params.add(visibleTo);
  const mine = p === undefined ? '' : ` and (requester_user_id = ${p} or user_id = ${p})`;
  const { rows } = await sql.query<{ view: Snapshot | string }>(
    `select view from ${tableOf(SNAPSHOTS)} where organization_id = $1 and interaction_id = $2${mine} order by created_at desc, snapshot_id limit ${SNAPSHOT_LIST_MAX}`,
    params.values,
  );
  return rows.map((r) => jsonColumn(r.view));
}

/** File transfers of the interaction or conference asked for (or all), newest first; only those `visibleTo` sent or received when given. */
export async function fileTransfersPage(sql: SqlExecutor, organizationId: string, q: FileTransferListQuery, visibleTo: string | undefined): Promise<FileTransfer[]> {
  const params = new QueryParams(organizationId);
  const where = ['organization_id = $1'];
  if (q.interactionId !== undefined) where.push(`interaction_id = ${params.add(q.interactionId)}`);
  if (q.conferenceId !== undefined) where.push(`conference_id = ${params.add(q.conferenceId)}`);
  if (visibleTo !== undefined) {
    const p = params.add(visibleTo);
    where.push(`(sender_user_id = ${p} or target_id = ${p})`);
  }
  const { rows } = await sql.query<{ view: FileTransfer | string }>(
    `select view from ${tableOf(TRANSFERS)} where ${where.join(' and ')} order by created_at desc, file_transfer_id limit ${SNAPSHOT_LIST_MAX}`,
    params.values,
  );
  return rows.map((r) => jsonColumn(r.view));
}

/** The live assets of an application, by id; only those naming one of `roles` when given. */
export async function assetsOfApplication(sql: SqlExecutor, organizationId: string, applicationId: string, roles: string[] | undefined): Promise<Asset[]> {
  const params = new QueryParams(organizationId, applicationId);
  const mine = roles === undefined ? '' : ` and roles && ${params.add(roles)}::text[]`;
  const { rows } = await sql.query<{ view: Asset | string }>(
    `select view from ${tableOf(ASSETS)} where organization_id = $1 and application_id = $2 and live${mine} order by asset_id limit ${SNAPSHOT_LIST_MAX}`,
    params.values,
  );
  return rows.map((r) => jsonColumn(r.view));
}

/** Whether a live snapshot, file transfer or asset names the blob (the sweeper's question). */
export async function blobReferenced(sql: SqlExecutor, key: string): Promise<boolean> {
  const { rows } = await sql.query<{ referenced: boolean }>(
    `select exists (select 1 from ${tableOf(SNAPSHOTS)} where blob_key = $1)
         or exists (select 1 from ${tableOf(TRANSFERS)} where blob_key = $1)
         or exists (select 1 from ${tableOf(ASSETS)} where blob_key = $1) as referenced`,
    [key],
  );
  return rows[0]?.referenced === true;
}

/** The bytes of every blob a live snapshot, file transfer or asset of the organization names (what its storage quota counts). */
export async function storedBytes(sql: SqlExecutor, organizationId: string): Promise<number> {
  const { rows } = await sql.query<{ bytes: string | number | null }>(
    `select coalesce(sum(b), 0) as bytes from (
       select blob_bytes as b from ${tableOf(SNAPSHOTS)} where organization_id = $1 and blob_key is not null
       union all select blob_bytes from ${tableOf(TRANSFERS)} where organization_id = $1
       union all select blob_bytes from ${tableOf(ASSETS)} where organization_id = $1 and blob_key is not null
     ) as stored`,
    [organizationId],
  );
  return Number(rows[0]?.bytes ?? 0);
}

