/**
 * The row of `--flag` in a command's help, its wrapped lines joined by single spaces; undefined if
 * the help has no such row. A row starts at `  --flag` (or `  -s, --flag`) and runs to the next row.
 */
export function helpRow(help: string, flag: string): string | undefined {
  const lines = help.split('\n');
  const start = lines.findIndex((line) => new RegExp(`^ {2}(-\\w, )?--${flag}( |$)`).test(line));
  if (start === -1) return undefined;
  const rest = lines.slice(start + 1);
  const end = rest.findIndex((line) => !/^ {3,}\S/.test(line));
  return [lines[start] as string, ...rest.slice(0, end === -1 ? rest.length : end)]
    .map((line) => line.trim())
    .join(' ')
    .replace(/ {2,}/g, ' ');
}
