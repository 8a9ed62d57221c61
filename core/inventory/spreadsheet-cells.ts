// A spreadsheet runs a cell that starts with = + - or @ as a formula, and a description or city comes
// from whoever filled in the inventory: opened in Excel, an export could run `=HYPERLINK(...)` or worse
// (OWASP's "CSV injection"). Such cells leave with a leading apostrophe, as OWASP advises: the
// spreadsheet then shows the cell as text instead of running it. The import takes one apostrophe off
// again, so an export still imports back to the same inventory; a value that itself starts with
// apostrophes before a trigger gains one more on the way out, which keeps the two mappings exact
// inverses. A plain number (+12125550100, -1.5) is left as it is: a spreadsheet reads it as a number,
// which runs nothing, and numbers are what the export is for.

const GUARDED = /^'*[=+\-@\t\r]/;
const PLAIN_NUMBER = /^[+-]?\d+(\.\d+)?$/;

/** The cell as written to a CSV file meant for spreadsheets. */
export function guardFormula(value: string): string {
  return GUARDED.test(value) && !PLAIN_NUMBER.test(value) ? `'${value}` : value;
}

/** The value a cell written by guardFormula stood for. */
export function unguardFormula(cell: string): string {
  return cell.startsWith("'") && GUARDED.test(cell.slice(1)) ? cell.slice(1) : cell;
}
