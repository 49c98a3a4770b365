import { posix } from 'node:path';
import { type RunConfig, runConfigSchema } from '../../config/run-config.js';
import { parseTrainingRunSpec, type TrainingRunSpec } from '../crd/spec.js';
import { serverOf } from './inference.js';
import { CHECKPOINT_PATH, INFERENCE_PORT, METRICS_PORT, WEIGHTS_PATH } from './layout.js';
import { type TrainingRun, UnsupportedRunError } from './types.js';

/** The run configuration every actor of this run reads, derived from the spec. */
export function runConfigOf(
  run: TrainingRun,
  spec: TrainingRunSpec = parseTrainingRunSpec(run.spec),
  defaults: { natsReplicas?: number } = {},
): RunConfig {
  const { rollout, learner: _l, verifier, checkpointing, nats, ...config } = spec;
  if (checkpointing.uri)
    throw new UnsupportedRunError(
      `checkpointing.uri ${checkpointing.uri}: object-store checkpoints are not available in this version; use checkpointing.pvc (a volume), or neither (the NATS object store)`,
    );
  const server = serverOf(rollout.engine);
  return runConfigSchema.parse({
    ...config,
    runId: run.metadata.name,
    natsReplicas: nats.replicas ?? defaults.natsReplicas ?? 1,
    engine: server ? 'openai' : rollout.engine,
    ...(server
      ? {
          openai: {
            ...config.openai,
            url: `http://127.0.0.1:${INFERENCE_PORT}`,
            ...(rollout.model ? { model: rollout.model } : {}),
            weightsDir: WEIGHTS_PATH,
            server,
          },
        }
      : {}),
    ...(checkpointing.pvc ? { checkpointDir: CHECKPOINT_PATH } : {}),
    // The rollout pods mount the checkpoint volume too: exports there are paths their servers can read.
    ...(config.trainer === 'torch'
      ? { torch: { ...config.torch, exportDir: posix.join(CHECKPOINT_PATH, 'exports', run.metadata.name) } }
      : {}),
    // The image's root filesystem is read-only: a relative cache path goes under the pod's /tmp.
    model: { ...config.model, checkpoint: posix.resolve('/tmp', config.model.checkpoint) },
    generators: rollout.minReplicas,
    verifiers: verifier.replicas,
    out: '/tmp/nft-run',
    metrics: true,
    metricsPort: METRICS_PORT,
  });
}
