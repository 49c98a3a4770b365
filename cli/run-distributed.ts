import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../config/parse-run-config.js';
import type { RunConfig } from '../config/run-config.js';
import type { SupervisedActor } from '../runtime/supervisor.js';
import { supervise } from '../runtime/supervisor.js';

/**
 * `nft-train run --nats URL`: the run's actors as separate processes meeting on the NATS server,
 * started and kept alive by this one. Every actor reads the same resolved configuration.
 */
export async function runDistributed(
  config: RunConfig,
  nats: string,
  processes: string | undefined,
  maxRestartDelaySeconds?: number,
): Promise<number> {
  const counts = replicaCounts(processes, { generator: config.generators, verifier: config.verifiers });
  const actors: SupervisedActor[] = [
    { role: 'coordinator', index: 0 },
    { role: 'learner', index: 0 },
    { role: 'buffer', index: 0 },
    ...Array.from({ length: counts.verifier }, (_, index) => ({ role: 'verifier' as const, index })),
    ...Array.from({ length: counts.generator }, (_, index) => ({ role: 'generator' as const, index })),
  ];
  const dir = mkdtempSync(join(tmpdir(), 'nft-run-'));
  const configFile = join(dir, 'run.json');
  // Metrics: one port per process would collide; each actor serves on a free port only if asked to.
  writeFileSync(configFile, JSON.stringify({ ...config, metrics: false }));
  const log = (line: string) => process.stderr.write(`[supervisor] ${line}\n`);
  let summary: string | undefined;
  try {
    const code = await supervise({
      actors,
      args: ['--nats', nats, '--run', config.runId, '--config', configFile],
      log,
      ...(maxRestartDelaySeconds === undefined ? {} : { maxRestartDelayMs: maxRestartDelaySeconds * 1000 }),
      onCoordinatorOutput: (line) => {
        summary = line;
      },
    });
    if (summary) console.log(summary);
    return code;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `generator=3,verifier=2` → replica counts; only generators and verifiers scale. */
export function replicaCounts(
  spec: string | undefined,
  defaults: { generator: number; verifier: number },
): { generator: number; verifier: number } {
  const counts = { ...defaults };
  if (spec === undefined) return counts;
  for (const part of spec
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [role, n] = part.split('=');
    if ((role !== 'generator' && role !== 'verifier') || !/^\d+$/.test(n ?? '') || Number(n) < 1)
      throw new ConfigError(
        `--processes ${JSON.stringify(spec)}: expected role=count pairs such as generator=3,verifier=2 (roles: generator, verifier; count ≥ 1)`,
      );
    counts[role] = Number(n);
  }
  return counts;
}
