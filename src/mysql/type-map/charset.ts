/**
 * Decoding a text column's stored bytes in its MySQL character set, as the
 * server's own conversion to utf8mb4 does for the snapshot.
 */
import { UnfitValueError } from '../column.js';

// MySQL's latin1 is Windows-1252 (0x80 is the euro sign). Node's
// TextDecoder('windows-1252') decodes ISO-8859-1 instead, hence this table
// for 0x80..0x9F; the five bytes 1252 leaves undefined map to the C1
// controls, as MySQL maps them.
const CP1252_HIGH = [
  0x20ac, 0x81, 0x201a, 0x192, 0x201e, 0x2026, 0x2020, 0x2021, 0x2c6, 0x2030, 0x160, 0x2039, 0x152, 0x8d, 0x17d, 0x8f,
  0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x2dc, 0x2122, 0x161, 0x203a, 0x153, 0x9d, 0x17e, 0x178,
];

function decodeCp1252(bytes: Buffer): string {
  let out = '';
  for (const b of bytes) out += String.fromCharCode(b >= 0x80 && b < 0xa0 ? CP1252_HIGH[b - 0x80] : b);
  return out;
}

function decodeUtf32(bytes: Buffer): string {
  let out = '';
  for (let i = 0; i + 4 <= bytes.length; i += 4) out += String.fromCodePoint(bytes.readUInt32BE(i));
  return out;
}

function decodeAscii(bytes: Buffer): string {
  // MySQL converts a byte outside ASCII to '?' on its way to utf8mb4.
  let out = '';
  for (const b of bytes) out += b < 0x80 ? String.fromCharCode(b) : '?';
  return out;
}

/** MySQL character set → WHATWG encoding label (decoders built into Node's ICU). */
const LABELS: Record<string, string> = {
  utf8mb4: 'utf-8',
  utf8mb3: 'utf-8',
  utf8: 'utf-8',
  latin2: 'iso-8859-2',
  latin5: 'iso-8859-9',
  latin7: 'iso-8859-13',
  greek: 'iso-8859-7',
  hebrew: 'iso-8859-8',
  cp1250: 'windows-1250',
  cp1251: 'windows-1251',
  cp1256: 'windows-1256',
  cp1257: 'windows-1257',
  cp866: 'ibm866',
  koi8r: 'koi8-r',
  koi8u: 'koi8-u',
  macroman: 'macintosh',
  tis620: 'windows-874',
  sjis: 'shift_jis',
  cp932: 'shift_jis',
  ujis: 'euc-jp',
  eucjpms: 'euc-jp',
  gbk: 'gbk',
  gb2312: 'gbk',
  gb18030: 'gb18030',
  big5: 'big5',
  euckr: 'euc-kr',
  ucs2: 'utf-16be',
  utf16: 'utf-16be',
  utf16le: 'utf-16le',
};

const decoders = new Map<string, TextDecoder>();

export function decodeMysqlText(bytes: Buffer, charset: string | null): string {
  const cs = (charset ?? 'utf8mb4').toLowerCase();
  if (cs === 'latin1') return decodeCp1252(bytes);
  if (cs === 'ascii') return decodeAscii(bytes);
  if (cs === 'utf32') return decodeUtf32(bytes);
  const label = LABELS[cs];
  if (!label) throw new UnfitValueError(`text in character set ${cs} cannot be decoded from the binlog`);
  let decoder = decoders.get(label);
  if (!decoder) {
    decoder = new TextDecoder(label, { ignoreBOM: true });
    decoders.set(label, decoder);
  }
  return decoder.decode(bytes);
}
