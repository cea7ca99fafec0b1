/** copy_max_memory ("300M", "64K", "1G", bytes) in bytes. */
export function parseSize(text: string): number {
  const m = /^([0-9]+)([KMG]?)$/i.exec(text.trim());
  if (!m) throw new Error(`not a size: ${text}`);
  const mult = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[m[2].toUpperCase() as '' | 'K' | 'M' | 'G'];
  return Number(m[1]) * mult;
}

const UNESCAPE: Record<string, string> = { '\\': '\\', t: '\t', n: '\n', r: '\r', b: '\b', f: '\f', v: '\v' };

/** The fields of a text-format COPY line, unescaped; \N is null. */
export function copyFields(line: Buffer): (string | null)[] {
  return line
    .toString('utf8')
    .split('\t')
    .map((f) => (f === '\\N' ? null : f.replace(/\\(.)/g, (_m, c: string) => UNESCAPE[c] ?? c)));
}
