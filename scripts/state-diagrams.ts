/**
 * The actors' state diagrams, drawn from the machine definitions themselves: `npm run gen:diagrams`
 * writes docs/state-machines.md, and a test fails when the file no longer matches the machines.
 */
import type { AnyStateMachine } from 'xstate';
import { coordinatorMachine } from '../actors/coordinator/machine.js';
import { createWorkLoop, STATELESS } from '../actors/work-loop.js';

export const STATE_DIAGRAMS_FILE = 'docs/state-machines.md';

interface Node {
  id: string;
  key: string;
  type: string;
  initial?: { target?: Node[] };
  states: Record<string, Node>;
  transitions: Map<string, Transition[]>;
  always?: Transition[];
}
interface Transition {
  target?: Node[];
  guard?: string | { type?: string };
  reenter?: boolean;
}

const safe = (id: string) => id.replace(/[^A-Za-z0-9]/g, '_');

/** What a transition is taken on, in words: the event, an invoked actor's end, a delay, or a guard. */
function label(eventType: string | undefined, t: Transition): string {
  const guard = typeof t.guard === 'string' ? t.guard : t.guard?.type;
  let on = eventType ?? '';
  const done = /^xstate\.done\.actor\.\d+\.(.+)$/.exec(on);
  const error = /^xstate\.error\.actor\.\d+\.(.+)$/.exec(on);
  const after = /^xstate\.after\.([^.]+)\./.exec(on);
  if (done) on = 'done';
  else if (error) on = 'error';
  else if (after) on = `after ${after[1]}`;
  const text = [on, guard ? `[${guard}]` : ''].filter(Boolean).join(' ');
  return text === '' ? 'always' : text;
}

function draw(node: Node, lines: string[], indent: string): void {
  const children = Object.values(node.states);
  const initial = node.initial?.target?.[0];
  if (initial) lines.push(`${indent}[*] --> ${safe(initial.id)}`);
  for (const child of children) {
    const invoked = (child as unknown as { invoke?: { src: string }[] }).invoke ?? [];
    const name = invoked.length > 0 ? `${child.key} (${invoked.map((i) => i.src).join(', ')})` : child.key;
    if (Object.keys(child.states).length > 0) {
      lines.push(`${indent}state "${name}" as ${safe(child.id)} {`);
      draw(child, lines, `${indent}  `);
      lines.push(`${indent}}`);
    } else lines.push(`${indent}state "${name}" as ${safe(child.id)}`);
    if (child.type === 'final') lines.push(`${indent}${safe(child.id)} --> [*]`);
  }
  for (const child of children) {
    const edges: [string | undefined, Transition][] = [
      ...[...child.transitions].flatMap(([e, ts]) => ts.map((t): [string, Transition] => [e, t])),
      ...(child.always ?? []).map((t): [undefined, Transition] => [undefined, t]),
    ];
    for (const [eventType, t] of edges)
      for (const target of t.target ?? [])
        lines.push(`${indent}${safe(child.id)} --> ${safe(target.id)}: ${label(eventType, t)}`);
  }
}

/** One machine as a Mermaid state diagram; events handled at the root without a target are listed. */
export function mermaidOf(machine: AnyStateMachine): string {
  const root = machine.root as unknown as Node;
  const lines = ['stateDiagram-v2'];
  draw(root, lines, '  ');
  const atRoot = [...root.transitions.keys()].sort();
  if (atRoot.length > 0)
    lines.push(
      `  note right of ${safe(Object.values(root.states)[0]?.id ?? root.id)}`,
      `    in every state: ${atRoot.join(', ')}`,
      '  end note',
    );
  return lines.join('\n');
}

export function stateDiagramsDocument(): string {
  const machines: [string, string, AnyStateMachine][] = [
    [
      'Coordinator',
      'actors/coordinator/machine.ts. Its events (policy versions, outcomes, evaluation answers, expiries, dead letters, the end of the run) are handled in every state and change only the context; each state re-checks its eventless transitions after every one.',
      coordinatorMachine,
    ],
    [
      'Work loop: generator, verifier, buffer, learner',
      "actors/work-loop.ts. Each actor provides `fetch`, `process`, `handBack` and `watch`, and `settle` where processing leaves work running (the generator's groups still decoding, waited for on STOP); `process` takes the state from the context and returns the next one, FACT events fold broadcasts into the facts.",
      createWorkLoop(STATELESS),
    ],
  ];
  const sections = machines.map(
    ([title, about, machine]) => `## ${title}\n\n${about}\n\n\`\`\`mermaid\n${mermaidOf(machine)}\n\`\`\`\n`,
  );
  return [
    '# State machines',
    '',
    'Generated from the machine definitions by `npm run gen:diagrams`; a test fails when this file is out of date. Do not edit by hand.',
    '',
    ...sections,
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { writeFileSync } = await import('node:fs');
  writeFileSync(STATE_DIAGRAMS_FILE, stateDiagramsDocument());
  console.log(`wrote ${STATE_DIAGRAMS_FILE}`);
}
