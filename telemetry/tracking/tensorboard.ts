import { appendFileSync, mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { tfRecord } from './tfrecord.js';
import type { Tracker } from './tracker.js';

/**
 * TensorBoard event files, written from the documented format (no maintained npm writer exists):
 * TFRecords of `tensorflow.Event` protobufs (event.proto): the first says the file version, each other
 * holds a step's scalars as `Summary.Value{tag, simple_value}`. `tensorboard --logdir DIR` shows them.
 */

/** Protobuf wire format, only what Event needs. */
const varint = (n: number | bigint): number[] => {
  let v = BigInt(n);
  const out: number[] = [];
  while (v > 0x7fn) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
};
const key = (field: number, wire: number) => varint((field << 3) | wire);
const bytesField = (field: number, bytes: Uint8Array | number[]) => [
  ...key(field, 2),
  ...varint(bytes.length),
  ...bytes,
];
const doubleField = (field: number, x: number) => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setFloat64(0, x, true);
  return [...key(field, 1), ...b];
};
const floatField = (field: number, x: number) => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setFloat32(0, x, true);
  return [...key(field, 5), ...b];
};
const utf8 = (s: string) => new TextEncoder().encode(s);

/** Event{wall_time = 1, step = 2, file_version = 3 | summary = 5}. */
export function encodeEvent(
  wallTime: number,
  step: number,
  body: { fileVersion: string } | { scalars: Record<string, number> },
): Uint8Array {
  const fields = [...doubleField(1, wallTime), ...key(2, 0), ...varint(step)];
  if ('fileVersion' in body) fields.push(...bytesField(3, utf8(body.fileVersion)));
  else {
    // Summary{repeated Value value = 1}, Value{tag = 1, simple_value = 2}.
    const values = Object.entries(body.scalars).flatMap(([tag, v]) =>
      bytesField(1, [...bytesField(1, utf8(tag)), ...floatField(2, v)]),
    );
    fields.push(...bytesField(5, values));
  }
  return Uint8Array.from(fields);
}

export class TensorBoardTracker implements Tracker {
  readonly file: string;

  constructor(dir: string, now = Date.now()) {
    mkdirSync(dir, { recursive: true });
    this.file = join(dir, `events.out.tfevents.${Math.floor(now / 1000)}.${hostname()}.${process.pid}`);
    this.write(0, { fileVersion: 'brain.Event:2' });
  }

  async start(): Promise<void> {}

  log(step: number, metrics: Record<string, number>): void {
    const finite = Object.fromEntries(Object.entries(metrics).filter(([, v]) => Number.isFinite(v)));
    if (Object.keys(finite).length > 0) this.write(step, { scalars: finite });
  }

  async finish(): Promise<void> {}

  private write(step: number, body: Parameters<typeof encodeEvent>[2]): void {
    appendFileSync(this.file, tfRecord(encodeEvent(Date.now() / 1000, step, body)));
  }
}
