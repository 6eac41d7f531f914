/**
 * Text tables as every command prints them: columns left-aligned and two spaces apart,
 * each as wide as its widest cell, and no trailing spaces (scripts cut on whitespace).
 */
import type { Ui } from './ui.js';

const COLUMN_GAP = '  ';

/** The lines of a table whose rows are all known; the header, if any, is the first row. */
export function formatTable(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const row of rows) widen(widths, row);
  return rows.map((row) => formatRow(row, widths));
}

/** A table on stdout with its header in bold; rows `highlight` picks (a duplicate, say) in yellow. */
export function printTable(ui: Ui, header: readonly string[], rows: readonly (readonly string[])[], highlight: (row: readonly string[]) => boolean = () => false): void {
  const [head, ...lines] = formatTable([header, ...rows]);
  ui.line(ui.style.bold(head!));
  for (const [index, line] of lines.entries()) ui.line(highlight(rows[index]!) ? ui.style.yellow.bold(line) : line);
}

/**
 * A table printed a row at a time as rows arrive (routes from a peer), so no row can be
 * measured before it is printed: each column starts at its minimum width and widens to
 * the widest cell printed so far.
 */
export class GrowingTable {
  private readonly widths: number[];

  constructor(minimumWidths: readonly number[]) {
    this.widths = [...minimumWidths];
  }

  format(row: readonly string[]): string {
    const line = formatRow(row, this.widths);
    widen(this.widths, row);
    return line;
  }
}

function formatRow(row: readonly string[], widths: readonly number[]): string {
  return row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(COLUMN_GAP).trimEnd();
}

function widen(widths: number[], row: readonly string[]): void {
  for (const [column, cell] of row.entries()) widths[column] = Math.max(widths[column] ?? 0, cell.length);
}
