import { parseTalkdeskIntegrations } from './settings';

describe('TALKDESK_INTEGRATIONS', () => {
  it('reads <organizationId>:<accountId>:<apiKey> entries, comma-separated; unset is none', () => {
    expect(parseTalkdeskIntegrations(undefined)).toEqual([]);
    expect(parseTalkdeskIntegrations('  ')).toEqual([]);
    expect(parseTalkdeskIntegrations('org-a:acct-1:key-0123456789abcdef, org-b:acct-2:key:with:colons-0123')).toEqual([
      { organizationId: 'org-a', accountId: 'acct-1', apiKey: 'key-0123456789abcdef' },
      { organizationId: 'org-b', accountId: 'acct-2', apiKey: 'key:with:colons-0123' },
    ]);
  });
  it('stops the service at start on an entry that is not one, naming it by position (never echoing a key)', () => {
    expect(() => parseTalkdeskIntegrations('org-a:acct-1:key-0123456789abcdef,org-b:acct-2')).toThrow(/entry 2 must be <organizationId>:<accountId>:<apiKey>/);
    expect(() => parseTalkdeskIntegrations('org-a:acct-1:short')).toThrow(/entry 1 .*at least 16 characters/);
    expect(() => parseTalkdeskIntegrations('org a:acct-1:key-0123456789abcdef')).toThrow(/entry 1/);
    try {
      parseTalkdeskIntegrations('org-a:acct-1:secret-short');
    } catch (e) {
      expect(String(e)).not.toContain('secret-short');
    }
  });
});
