/**
 * docs/architecture.md: the actors, the streams and topics between them and the messages they carry, in
 * one picture drawn from bus/channels.ts (`npm run gen:diagrams`; a test fails when it is out of date).
 */
import {
  type StreamName,
  streamProducers,
  streams,
  streamWorkers,
  type TopicName,
  topicListeners,
  topicPublishers,
  topics,
} from '../bus/channels.js';

export const ARCHITECTURE_FILE = 'docs/architecture.md';

/** What each stream's and topic's messages are (their schemas are in bus/messages.ts). */
const MESSAGES: Record<StreamName | TopicName, string> = {
  tasks: 'Task: a prompt, n, minPolicyVersion',
  rollouts: 'Rollout samples: tokens, log-probs, policyVersion',
  scored: 'Scored samples (reward); release of failed tasks',
  evalScored: 'Scored evaluation answers',
  batches: 'Batch: step, taskIds, blob of groups',
  outcomes: 'trained step | dropped task (kind, reason)',
  policy: 'PolicyEvent: version, weights URI',
  runState: 'RunState: running, done, closed',
  evaluated: 'Evaluated: accuracy per dataset',
};

export function architectureDiagram(): string {
  const lines = ['flowchart LR'];
  const roles = ['coordinator', 'generator', 'verifier', 'buffer', 'learner'];
  for (const role of roles) lines.push(`  ${role}([${role}])`);
  for (const stream of Object.keys(streams) as StreamName[]) {
    lines.push(`  ${stream}[("${stream}<br/><small>${MESSAGES[stream]}</small>")]`);
    for (const producer of streamProducers[stream]) lines.push(`  ${producer} --> ${stream}`);
    lines.push(`  ${stream} --> ${streamWorkers[stream]}`);
  }
  for (const topic of Object.keys(topics) as TopicName[]) {
    lines.push(`  ${topic}{{"${topic} (broadcast)<br/><small>${MESSAGES[topic]}</small>"}}`);
    for (const publisher of topicPublishers[topic]) lines.push(`  ${publisher} -.-> ${topic}`);
    for (const listener of topicListeners[topic] as readonly string[])
      lines.push(`  ${topic} -.-> ${listener}`);
  }
  return lines.join('\n');
}

export function architectureDocument(): string {
  return `# Architecture: actors, streams, messages

Generated from bus/channels.ts by \`npm run gen:diagrams\`; a test fails when this file is out of date.

Rounded boxes are actors (XState machines: a pure core, a shell that does the I/O). Cylinders are
JetStream work queues: every message is taken by one replica of its consumer and acknowledged once
handled, so a crash redelivers it. Hexagons are broadcasts that every listener sees. Solid arrows:
publish to a queue, or consume from it; dotted: broadcast. The state of each actor's machine is in
[state-machines.md](state-machines.md).

\`\`\`mermaid
${architectureDiagram()}
\`\`\`

A task's path: the coordinator publishes a Task when admission control allows it; a generator samples
a group and publishes its rollouts; a verifier scores them (evaluation answers go back to the
coordinator); the buffer assembles complete groups into batches; the learner trains one step per
batch and broadcasts the new policy version; every task ends as one outcome (trained or dropped with a
reason), which the coordinator counts.
`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { writeFileSync } = await import('node:fs');
  writeFileSync(ARCHITECTURE_FILE, architectureDocument());
  console.log(`wrote ${ARCHITECTURE_FILE}`);
}
