import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { streamProducers, streams, topicListeners, topicPublishers, topics } from '../../../bus/channels.js';
import { ARCHITECTURE_FILE, architectureDocument } from '../../../scripts/architecture-diagram.js';
import { STATE_DIAGRAMS_FILE, stateDiagramsDocument } from '../../../scripts/state-diagrams.js';

const ROLES = ['coordinator', 'generator', 'verifier', 'buffer', 'learner'] as const;
const NAMES = new Set([...Object.keys(streams), ...Object.keys(topics)]);

function sourcesOf(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory()
      ? sourcesOf(path)
      : path.endsWith('.ts')
        ? [readFileSync(path, 'utf8')]
        : [];
  });
}

/** The stream or topic names a call's first argument can be: a literal, or the literals of a const it names. */
function namesOf(argument: string, source: string): string[] {
  const literal = /^'(\w+)'$/.exec(argument);
  if (literal) return [literal[1] as string];
  const init = new RegExp(`const ${argument} = ([^;]+);`).exec(source)?.[1] ?? '';
  return [...init.matchAll(/'(\w+)'/g)].map((m) => m[1] as string).filter((n) => NAMES.has(n));
}

/** What an actor's code publishes, broadcasts and listens to. */
function usesOf(role: string) {
  const publishes = new Set<string>();
  const broadcasts = new Set<string>();
  const listens = new Set<string>();
  for (const source of sourcesOf(join('actors', role))) {
    for (const m of source.matchAll(/\.(publish|broadcast|on)\(\s*([\w']+)/g)) {
      const set = m[1] === 'publish' ? publishes : m[1] === 'broadcast' ? broadcasts : listens;
      for (const name of namesOf(m[2] as string, source)) if (NAMES.has(name)) set.add(name);
    }
    if (/reportDrop\(|reportTrained\(/.test(source)) publishes.add('outcomes');
  }
  return { publishes, broadcasts, listens };
}

const holders = (table: Record<string, readonly string[]>, role: string) =>
  Object.entries(table)
    .filter(([, roles]) => roles.includes(role))
    .map(([name]) => name)
    .sort();

describe('generated documents', () => {
  it(`${STATE_DIAGRAMS_FILE} is drawn from the machines as they are (npm run gen:diagrams)`, () => {
    expect(readFileSync(STATE_DIAGRAMS_FILE, 'utf8')).toBe(stateDiagramsDocument());
  });

  it(`${ARCHITECTURE_FILE} is drawn from bus/channels.ts as it is (npm run gen:diagrams)`, () => {
    expect(readFileSync(ARCHITECTURE_FILE, 'utf8')).toBe(architectureDocument());
  });

  it.each(ROLES)('the channel tables say what the %s code publishes, broadcasts and listens to', (role) => {
    const uses = usesOf(role);
    expect([...uses.publishes].sort()).toEqual(holders(streamProducers, role));
    expect([...uses.broadcasts].sort()).toEqual(holders(topicPublishers, role));
    expect([...uses.listens].sort()).toEqual(holders(topicListeners, role));
  });
});
