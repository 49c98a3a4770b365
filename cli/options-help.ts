import {
  type CommandSpec,
  type Option,
  type Options,
  placeholder,
  resolveOption,
  withHelp,
} from './option-table.js';

/** A command's `--help`, from its table: title, usage, description, one aligned row per option. */

const WIDTH = 100;
/** Labels longer than this put their text on the next line. */
const MAX_LABEL = 24;

export function formatHelp(spec: CommandSpec): string {
  return [
    `${spec.command} — ${spec.summary}`,
    `Usage: ${usageLines(spec).join('\n       ')}`,
    spec.about,
    `${spec.optionsHeading ?? 'Options:'}\n${optionRows(spec.options)}`,
    spec.notes,
  ]
    .filter((section) => section !== undefined)
    .join('\n\n');
}

function usageLines(spec: CommandSpec): readonly string[] {
  if (spec.usage) return spec.usage;
  const required = Object.entries(spec.options)
    .filter(([, o]) => o.required)
    .map(([name, o]) => `--${name} ${placeholder(o)}`);
  return [[spec.command, spec.args, ...required, '[options]'].filter(Boolean).join(' ')];
}

/** The option rows of `--help`, aligned, each with its default, environment variable and whether required. */
function optionRows(options: Options): string {
  const rows = Object.entries(withHelp(options)).map(([name, option]) => {
    const o = resolveOption(option);
    const value = o.type === 'boolean' ? '' : ` ${placeholder(o)}`;
    return { label: `  ${o.short ? `-${o.short}, ` : ''}--${name}${value}`, text: `${o.help}${tags(o)}` };
  });
  const column = Math.min(Math.max(...rows.map((r) => r.label.length)), MAX_LABEL) + 2;
  const indent = ' '.repeat(column);
  return rows
    .map(({ label, text }) => {
      const lines = wrap(text, WIDTH - column);
      const first = label.length <= column - 2 ? [label.padEnd(column) + lines.shift()] : [label];
      return [...first, ...lines.map((line) => indent + line)].join('\n');
    })
    .join('\n');
}

function tags(o: Option & { schemaDefault?: unknown }): string {
  const shown = o.defaultText ?? (o.type === 'boolean' ? undefined : format(o.default ?? o.schemaDefault));
  const parts = [
    shown === undefined ? undefined : `default${o.defaultText === undefined ? '' : ':'} ${shown}`,
    o.env ? `or ${o.env}` : undefined,
    o.required ? 'required' : undefined,
  ].filter((p) => p !== undefined);
  return parts.length > 0 ? ` (${parts.join('; ')})` : '';
}

/** A default as a user would type it: 0.0003, nft,rft,dapo. */
function format(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  return Array.isArray(value) ? value.join(',') : String(value);
}

/** Greedy word wrap; a newline in the text starts a new line. */
function wrap(text: string, width: number): string[] {
  return text.split('\n').flatMap((paragraph) => {
    const lines: string[] = [];
    let line = '';
    for (const word of paragraph.split(' ')) {
      if (line && line.length + 1 + word.length > width) {
        lines.push(line);
        line = word;
      } else line = line ? `${line} ${word}` : word;
    }
    return [...lines, line];
  });
}
