/** One line of progress for a command: a bar for copies, key figures otherwise. */
export function renderProgress(progress: Record<string, unknown> | null): string {
  if (!progress) return '';
  const total = Number(progress.tables_total ?? 0);
  if (total > 0) {
    const done = Number(progress.tables_done ?? 0);
    const rows = Number(progress.rows_copied ?? 0);
    const estimate = Math.max(rows, Number(progress.rows_estimate ?? 0));
    const frac = estimate > 0 ? Math.min(1, rows / estimate) : done / total;
    const width = 24;
    const filled = Math.round(frac * width);
    const failed = Array.isArray(progress.tables_failed) && progress.tables_failed.length > 0 ? `, failed: ${progress.tables_failed.join(', ')}` : '';
    return ` [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] tables ${done}/${total}, rows ${rows}${estimate ? `/~${estimate}` : ''}${failed}`;
  }
  return ` ${JSON.stringify(progress)}`;
}
