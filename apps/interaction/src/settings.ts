import type { Kit, Setting } from '@parley/service-kit';
import { SettingError, int } from '@parley/service-kit';

/** One Talkdesk account Parley is connected to: which organization it is, and the key it presents. */
export interface TalkdeskIntegration {
  organizationId: string;
  accountId: string;
  apiKey: string;
}

const ENTRY = /^([A-Za-z0-9_-]{1,128}):([^:,\s]{1,256}):([^,\s]{16,1024})$/;

/** `<organizationId>:<accountId>:<apiKey>`, comma-separated; an entry that is not so stops the service at start, naming it by position. */
export function parseTalkdeskIntegrations(raw: string | undefined): TalkdeskIntegration[] {
  if (raw === undefined || raw.trim() === '') return [];
  return raw.split(',').map((entry, i) => {
    const m = ENTRY.exec(entry.trim());
    if (!m) throw new SettingError(`TALKDESK_INTEGRATIONS entry ${i + 1} must be <organizationId>:<accountId>:<apiKey> (the key at least 16 characters)`);
    return { organizationId: m[1], accountId: m[2], apiKey: m[3] };
  });
}

const talkdeskIntegrations: Setting<TalkdeskIntegration[]> = {
  env: 'TALKDESK_INTEGRATIONS',
  doc: 'the Talkdesk accounts connected, as <organizationId>:<accountId>:<apiKey>, comma-separated: what POST /talkdesk-integration/authorization-validator accepts',
  secret: true,
  defaultText: '',
  read: parseTalkdeskIntegrations,
};

/** The interaction service's own settings (the platform's come with the kit). */
export const interactionSettings = {
  cacheSize: int('INTERACTION_CACHE_SIZE', 10_000, 'interactions whose state is kept in memory between commands'),
  talkdeskIntegrations,
};

export type InteractionKit = Kit<typeof interactionSettings>;
