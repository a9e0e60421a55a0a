import { validateSync } from 'class-validator';
import { Limits, jsonBytes, jsonNestingDepth, pageOf, problemWithJsonStrings, quote, tooLarge } from './limits';
import { MaxJsonBytes, problemWithClientEvent } from './validation';

describe('bounds', () => {
  it('measures values as UTF-8 JSON, escapes included', () => {
    expect(jsonBytes({ a: 'é' })).toBe('{"a":"é"}'.length + 1);
    expect(jsonBytes('\u0001')).toBe('"\\u0001"'.length);
    expect(jsonBytes(undefined)).toBe(0);
  });

  it('counts nesting in one scan, ignoring brackets inside strings, and stops past the limit', () => {
    expect(jsonNestingDepth('{"a":[1,{"b":"[[[{{{"}]}')).toBe(3);
    expect(jsonNestingDepth('"just a string"')).toBe(0);
    expect(jsonNestingDepth('{"q":"\\"[","x":[]}')).toBe(2);
    expect(jsonNestingDepth('['.repeat(1_000_000), 32)).toBe(33);
  });

  it('finds strings and keys PostgreSQL cannot store, with their path', () => {
    expect(problemWithJsonStrings({ a: ['ok', { b: 'x\u0000y' }] })).toBe('a[1].b contains a NUL character (U+0000)');
    expect(problemWithJsonStrings({ a: 'lone \ud800 high' })).toBe('a contains an unpaired UTF-16 surrogate');
    expect(problemWithJsonStrings({ a: 'lone \udc00 low' })).toBe('a contains an unpaired UTF-16 surrogate');
    expect(problemWithJsonStrings({ 'k\u0000': 1 })).toBe('a key in the body contains a NUL character (U+0000)');
    expect(problemWithJsonStrings({ emoji: '😀 paired surrogates are fine', 'odd key!': { x: 1 } })).toBeNull();
    expect(problemWithJsonStrings({ 'odd key!': { x: '\u0000' } })).toBe('["odd key!"].x contains a NUL character (U+0000)');
  });

  it('quotes a client value cut at Limits.quotedChars, saying how long it was', () => {
    expect(quote('short')).toBe('"short"');
    const long = quote('x'.repeat(100_000));
    expect(long.length).toBeLessThan(Limits.quotedChars + 40);
    expect(long).toMatch(/… \(100000 characters\)$/);
  });

  it('pages a list by the bytes of its JSON array, always taking the first item', () => {
    const items = ['a'.repeat(10), 'b'.repeat(10), 'c'.repeat(10)]; // 12 bytes each as JSON
    expect(pageOf(items, 2 + 13 + 13)).toEqual(items.slice(0, 2));
    expect(JSON.stringify(pageOf(items, 28)).length).toBeLessThanOrEqual(28);
    expect(pageOf(items, 5)).toEqual(items.slice(0, 1));
    expect(pageOf([], 5)).toEqual([]);
  });

  it('names the bound of a 413', () => {
    expect(tooLarge('Thing', 10, 5, 'eventBytes')).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', message: 'Thing would be 10 bytes as JSON; the limit is 5 bytes', details: { bound: 'eventBytes', limit: 5, bytes: 10 } });
  });

  it('MaxJsonBytes refuses a field over its bound with a message naming it', () => {
    class Doc {
      @MaxJsonBytes(16) metadata!: unknown;
    }
    const ok = Object.assign(new Doc(), { metadata: { a: 1 } });
    const big = Object.assign(new Doc(), { metadata: { a: 'x'.repeat(20) } });
    expect(validateSync(ok)).toEqual([]);
    expect(Object.values(validateSync(big)[0].constraints ?? {})).toEqual(['metadata must be at most 16 bytes as JSON (UTF-8); it is 28']);
  });

  it("a client event's messages never carry its whole input back", () => {
    const problem = problemWithClientEvent({ type: 'A'.repeat(100_000), timestamp: 'x' }) ?? '';
    expect(problem).toMatch(/must be at most 128 characters/);
    expect(problem.length).toBeLessThan(200);
  });
});
