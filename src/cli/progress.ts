/** One line of progress for a command: a bar for copies, key figures otherwise. */
export function renderProgress(progress: Record<string, unknown> | null): string {
  if (!progress) return '';
  const total = Number(progress.tables_total ?? 0);
  if (total > 0) {
    const done = Number(progress.tables_done ?? 0);
    const rows = Number(progress.rows_copied ?? 0);
    const bytes = Number(progress.bytes_copied ?? 0);
    const estimate = Math.max(rows, Number(progress.rows_estimate ?? 0));
    const frac = estimate > 0 ? Math.min(1, rows / estimate) : done / total;
    const width = 24;
    const filled = Math.round(frac * width);
    const failed = Array.isArray(progress.tables_failed) && progress.tables_failed.length > 0 ? `, failed: ${progress.tables_failed.join(', ')}` : '';
    return ` [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] tables ${done}/${total}, rows ${rows}${estimate ? `/~${estimate}` : ''}` +
      `${bytes > 0 ? `, ${humanBytes(bytes)}` : ''}${failed}`;
  }
  return ` ${JSON.stringify(progress)}`;
}

function humanBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}
