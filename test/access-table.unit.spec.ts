import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ACCESS, Roles, accessOf, renderAccessTable, rolesAllowed } from '@parley/contracts';

/** docs/access.md shows the table the services decide with: the two cannot drift. */
describe('the access table', () => {
  it('is what docs/access.md shows, cell by cell', () => {
    const doc = readFileSync(join(__dirname, '..', 'docs', 'access.md'), 'utf8');
    const shown = /<!-- access-table:start -->\n([\s\S]*?)\n<!-- access-table:end -->/.exec(doc)?.[1];
    // On a change of the table, paste renderAccessTable()'s output between the markers.
    expect(shown).toBe(renderAccessTable());
  });

  it('gives a role the best of its roles, and nothing to a caller with none of Parley\'s', () => {
    expect(accessOf('endConference', 'one the caller joined but did not create', ['CUSTOMER'])).toBe('forbidden');
    expect(accessOf('endConference', 'one the caller joined but did not create', ['CUSTOMER', 'AGENT'])).toBe('yes');
    expect(accessOf('readConference', 'one the caller neither created nor joined', ['CUSTOMER'])).toBe('hidden');
    expect(accessOf('readConference', 'one the caller created or joined', ['offline_access'])).toBe('forbidden');
    expect(accessOf('readConference', 'one the caller created or joined', [])).toBe('forbidden');
  });

  it('lets every role through some route, and names each route once', () => {
    const routes = Object.values(ACCESS).flatMap((rule) => rule.routes);
    expect(new Set(routes).size).toBe(routes.length);
    for (const role of Roles) expect(Object.keys(ACCESS).some((op) => rolesAllowed(op as keyof typeof ACCESS).includes(role))).toBe(true);
  });
});
