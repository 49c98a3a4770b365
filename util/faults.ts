import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { trainIndexOf } from '../bus/task-ids.js';
import { createRng, deriveSeed, type Rng } from './random.js';

/**
 * Fault injection for the chaos tests, off unless `NFT_FAULTS` holds a JSON plan. Crashes come from inside
 * the process at named points of an actor's work (`learner.after-checkpoint`), so that a test hits each
 * point exactly where it means to, whatever the scheduler does:
 *
 *   - `kill.<point>.atStep`: SIGKILL the first time any process of the run reaches the point at that step
 *     or later; a marker file in `markerDir` makes it happen once per run, across restarts;
 *   - `kill.<point>.probability`: SIGKILL with that probability each time the point is reached;
 *   - `stuckTasks`: generators take training task `t<i>` (i % every === offset) and never finish it, as a
 *     hung worker would, until it runs out of deliveries.
 *
 *   NFT_FAULTS='{"markerDir":"/tmp/f","kill":{"learner.after-train":{"atStep":12}},"stuckTasks":{"every":29}}'
 */

const planSchema = z
  .object({
    seed: z.number().int().default(1),
    markerDir: z.string().min(1).optional(),
    kill: z
      .record(
        z.string(),
        z
          .object({
            atStep: z.number().int().min(0).optional(),
            probability: z.number().min(0).max(1).optional(),
          })
          .strict(),
      )
      .default({}),
    stuckTasks: z
      .object({ every: z.number().int().positive(), offset: z.number().int().min(0).default(0) })
      .strict()
      .optional(),
  })
  .strict();

type FaultPlan = z.infer<typeof planSchema>;

let plan: FaultPlan | null | undefined;
let rng: Rng | undefined;

function current(): FaultPlan | null {
  if (plan !== undefined) return plan;
  const raw = process.env.NFT_FAULTS;
  if (!raw) {
    plan = null;
    return plan;
  }
  const parsed = planSchema.safeParse(JSON.parse(raw));
  if (!parsed.success)
    throw new Error(
      `NFT_FAULTS: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
    );
  plan = parsed.data;
  rng = createRng(deriveSeed(plan.seed, String(process.pid)));
  return plan;
}

/** Kills this process on the spot if the fault plan says so for `point` (at `step`, where it has one). */
export function faultPoint(point: string, step: number | undefined, log: (line: string) => void): void {
  const p = current();
  const spec = p?.kill[point];
  if (!p || !spec) return;
  if (spec.atStep !== undefined) {
    if (step === undefined || step < spec.atStep || !firstTime(p, point)) return;
  } else if (!rng || rng() >= (spec.probability ?? 0)) return;
  log(`fault injected: SIGKILL at ${point}${step === undefined ? '' : ` (step ${step})`}`);
  process.kill(process.pid, 'SIGKILL');
}

/** True for a training task the fault plan tells generators never to finish. */
export function isStuckTask(taskId: string): boolean {
  const stuck = current()?.stuckTasks;
  const index = trainIndexOf(taskId);
  return stuck !== undefined && index !== undefined && index % stuck.every === stuck.offset;
}

/** Claims the point's marker file: true for the one process that creates it. */
function firstTime(p: FaultPlan, point: string): boolean {
  if (!p.markerDir) return true;
  try {
    writeFileSync(join(p.markerDir, point), String(process.pid), { flag: 'wx' });
    return true;
  } catch {
    return false;
  }
}
