import type { StreamMessage, StreamName } from './channels.js';

/**
 * Which tasks a message carries, and for a group's samples which of them, in a header of its own: the
 * coordinator finds where a task is by reading only the headers of what consumers have not settled.
 * Written `t5` for a whole task, `t5#0-3` for samples 0 to 3, `t5#0+2+5` for scattered ones; a message
 * with several tasks lists them comma-separated. Task ids never hold `,` or `#`.
 */

export const TASKS_HEADER = 'Nft-Tasks';

export interface TaskRef {
  taskId: string;
  /** The sample indices the message holds; absent: the task as a whole. */
  samples?: number[];
}

export function taskRefsOf<S extends StreamName>(stream: S, data: StreamMessage<S>): TaskRef[] {
  const m = data as StreamMessage<StreamName>;
  if (stream === 'tasks') return [{ taskId: (m as StreamMessage<'tasks'>).taskId }];
  if (stream === 'batches') return (m as StreamMessage<'batches'>).taskIds.map((taskId) => ({ taskId }));
  if (stream === 'outcomes') {
    const o = m as StreamMessage<'outcomes'>;
    return (o.type === 'trained' ? o.taskIds : [o.taskId]).map((taskId) => ({ taskId }));
  }
  if ('release' in m) return m.release.taskIds.map((taskId) => ({ taskId }));
  const bySample = new Map<string, number[]>();
  for (const s of (m as StreamMessage<'rollouts'>).samples) {
    const list = bySample.get(s.taskId) ?? [];
    list.push(s.sampleIndex);
    bySample.set(s.taskId, list);
  }
  return [...bySample].map(([taskId, samples]) => ({ taskId, samples }));
}

export function encodeTaskRefs(refs: readonly TaskRef[]): string {
  return refs.map((r) => (r.samples ? `${r.taskId}#${encodeIndices(r.samples)}` : r.taskId)).join(',');
}

export function decodeTaskRefs(header: string | undefined): TaskRef[] {
  if (!header) return [];
  return header.split(',').map((part) => {
    const [taskId = '', indices] = part.split('#');
    return indices === undefined ? { taskId } : { taskId, samples: decodeIndices(indices) };
  });
}

function encodeIndices(indices: readonly number[]): string {
  const sorted = [...indices].sort((a, b) => a - b);
  const first = sorted[0] ?? 0;
  const last = sorted.at(-1) ?? 0;
  return last - first + 1 === sorted.length ? `${first}-${last}` : sorted.join('+');
}

function decodeIndices(text: string): number[] {
  const range = /^(\d+)-(\d+)$/.exec(text);
  if (range) {
    const out: number[] = [];
    for (let i = Number(range[1]); i <= Number(range[2]); i++) out.push(i);
    return out;
  }
  return text.split('+').map(Number);
}
