import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { cleanFileName, sniffContent } from './content-type';

// The smallest files of each kind: their signatures are what file-type reads.
const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005000201a3d5e8b60000000049454e44ae426082', 'hex');
const JPEG = Buffer.from('ffd8ffe000104a46494600010100000100010000ffdb004300080606070605080707070909080a0c140d0c0b0b0c1912130f141d1a1f1e1d1a1c1c20242e2720222c231c1c2837292c30313434341f27393d38323c2e333432ffd9', 'hex');

describe('sniffContent', () => {
  it('tells an image by its first bytes, whatever it is called, and gives every byte back', async () => {
    for (const [bytes, mimeType, extension] of [
      [PNG, 'image/png', 'png'],
      [JPEG, 'image/jpeg', 'jpg'],
    ] as const) {
      const sniffed = await sniffContent(Readable.from([bytes.subarray(0, 5), bytes.subarray(5)]));
      expect({ mimeType: sniffed.mimeType, extension: sniffed.extension }).toEqual({ mimeType, extension });
      expect((await buffer(sniffed.body)).equals(bytes)).toBe(true);
    }
  });

  it('waits for enough of the start however small the first chunks are, and passes on a broken source', async () => {
    const bytes = Buffer.concat([PNG, Buffer.alloc(10_000, 7)]);
    const byteByByte = Readable.from((function* () { for (const b of bytes) yield Buffer.from([b]); })());
    const sniffed = await sniffContent(byteByByte);
    expect(sniffed.mimeType).toBe('image/png');
    expect((await buffer(sniffed.body)).equals(bytes)).toBe(true);
    const broken = new Readable({ read() { this.push(PNG); this.destroy(new Error('the client went away')); } });
    await expect(sniffContent(broken)).rejects.toThrow(/went away/);
  });

  it('says nothing of text, and still gives it back whole', async () => {
    const text = Buffer.from('#!/bin/sh\necho not an image\n'.repeat(1000));
    const sniffed = await sniffContent(Readable.from([text]));
    expect(sniffed.mimeType).toBeUndefined();
    expect((await buffer(sniffed.body)).equals(text)).toBe(true);
  });

  it('keeps a file name as its last path segment, printable, at most 255 whole characters', () => {
    expect(cleanFileName('C:\\Users\\me\\report.pdf')).toBe('report.pdf');
    expect(cleanFileName('../../etc/passwd')).toBe('passwd');
    expect(cleanFileName('a\u0000b\nc\u007f.txt')).toBe('abc.txt');
    expect(cleanFileName('')).toBe('file');
    const long = `${'x'.repeat(254)}😀😀.png`;
    expect(cleanFileName(long)).toBe(`${'x'.repeat(254)}😀`);
    expect(cleanFileName('half\ud800.txt')).toBe('half\ufffd.txt');
  });
});
