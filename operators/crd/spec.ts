import { z } from 'zod';
import { runConfigSchema } from '../../config/run-config.js';

/**
 * The `TrainingRun` spec: the run configuration (the one zod schema every run reads) without what a
 * deployment decides for itself, plus where and how the actors run on Kubernetes. The CRD's OpenAPI
 * schema is generated from this (crd.ts); nothing in it is written twice.
 */

const replicas = z.number().int().min(0);

export const rolloutSpecSchema = z
  .object({
    engine: z
      .enum(['vllm', 'sglang', 'embedded', 'simulated'])
      .default('sglang')
      .describe(
        'The inference server beside each generator: vLLM or SGLang on GPUs, or the embedded/simulated engines on CPU.',
      ),
    image: z.string().min(1).optional().describe("Image of the rollout pods (default: the operator's)."),
    model: z
      .string()
      .min(1)
      .optional()
      .describe('The model the inference server loads, e.g. Qwen/Qwen2.5-Math-7B.'),
    gpusPerReplica: z.number().int().min(0).default(1).describe('GPUs each rollout replica requests.'),
    minReplicas: replicas.default(1).describe('Fewest rollout replicas the autoscaler keeps.'),
    maxReplicas: z.number().int().min(1).default(4).describe('Most rollout replicas the autoscaler starts.'),
    autoscaling: z
      .object({
        engine: z
          .enum(['builtin', 'keda'])
          .default('builtin')
          .describe(
            "`builtin`: the operator's staleness-aware autoscaler; `keda`: a KEDA ScaledObject on the task stream.",
          ),
        scaleUpStabilizationSeconds: z
          .number()
          .int()
          .min(0)
          .default(30)
          .describe('A higher desired replica count must hold this long before replicas are added.'),
        scaleDownStabilizationSeconds: z
          .number()
          .int()
          .min(0)
          .default(300)
          .describe('A lower desired replica count must hold this long before replicas are removed.'),
      })
      .strict()
      .default(() => ({
        engine: 'builtin' as const,
        scaleUpStabilizationSeconds: 30,
        scaleDownStabilizationSeconds: 300,
      }))
      .describe('How the rollout replicas scale.'),
  })
  .strict();

export const trainingRunSpecSchema = runConfigSchema
  .omit({
    // Set by the operator: the run id is the resource's name, replicas come from rollout and verifier,
    // the engine from rollout.engine, the checkpoint directory from checkpointing, and every pod
    // serves its metrics on the same port.
    runId: true,
    engine: true,
    generators: true,
    verifiers: true,
    out: true,
    checkpointDir: true,
    metrics: true,
    metricsPort: true,
    // Reported by the embedded run's own process; a deployment has Prometheus and Grafana.
    tracking: true,
    // nats.replicas, beside the server it is about.
    natsReplicas: true,
  })
  .extend({
    // Required: no default engine can stand for a run (vLLM and SGLang need an image and a model),
    // and the API server refuses a CRD whose default breaks its own CEL rules.
    rollout: rolloutSpecSchema.describe(
      'The rollout workers: a generator with its inference server per replica.',
    ),
    learner: z
      .object({
        image: z.string().min(1).optional().describe("Image of the learner pods (default: the operator's)."),
        nodes: z
          .number()
          .int()
          .min(1)
          .default(1)
          .describe('Nodes the learner spans (one torchrun process per node).'),
        gpusPerNode: z.number().int().min(0).default(1).describe('GPUs per learner node.'),
      })
      .strict()
      .default(() => ({ nodes: 1, gpusPerNode: 1 }))
      .describe("The learner: the trainer's pods."),
    verifier: z
      .object({ replicas: z.number().int().min(1).default(2).describe('Verifier replicas.') })
      .strict()
      .default(() => ({ replicas: 2 }))
      .describe('The verifier pods.'),
    checkpointing: z
      .object({
        pvc: z.string().min(1).optional().describe('A PersistentVolumeClaim to keep checkpoints in …'),
        uri: z
          .string()
          .min(1)
          .optional()
          .describe('… or an object-store URI (s3://…); neither: the NATS object store.'),
      })
      .strict()
      .default(() => ({}))
      .describe("Where the learner's checkpoints go."),
    nats: z
      .object({
        url: z
          .string()
          .min(1)
          .describe('nats://HOST:PORT of the server, or several, comma-separated (a cluster).'),
        replicas: z
          .number()
          .int()
          .min(1)
          .max(5)
          .optional()
          .describe(
            "JetStream replicas of the run's streams and stores; default: the operator's (3 with the chart's clustered NATS), else 1.",
          ),
        credentialsSecret: z
          .string()
          .min(1)
          .optional()
          .describe(
            "A Secret in the run's namespace with keys user/password or token (and optionally ca.crt).",
          ),
      })
      .strict()
      .describe("The NATS JetStream server the run's actors meet on."),
  })
  .strict();

export type TrainingRunSpec = z.infer<typeof trainingRunSpecSchema>;

/**
 * Rules across fields, each once: as a CEL rule the API server enforces (x-kubernetes-validations at
 * `path`) and as a check the operator and the tests run on parsed specs.
 */
export const crossFieldRules = [
  {
    path: ['rollout'],
    rule: 'self.minReplicas <= self.maxReplicas',
    message: 'rollout.minReplicas must not exceed rollout.maxReplicas',
    holds: (s: TrainingRunSpec) => s.rollout.minReplicas <= s.rollout.maxReplicas,
  },
  {
    path: ['checkpointing'],
    rule: '!(has(self.pvc) && has(self.uri))',
    message: 'checkpointing: give pvc or uri, not both',
    holds: (s: TrainingRunSpec) => !(s.checkpointing.pvc && s.checkpointing.uri),
  },
  {
    path: ['rollout'],
    rule: "self.engine in ['embedded', 'simulated'] || has(self.image)",
    message: 'rollout.image is required for the vllm and sglang engines',
    holds: (s: TrainingRunSpec) => ['embedded', 'simulated'].includes(s.rollout.engine) || !!s.rollout.image,
  },
  {
    path: ['rollout'],
    rule: "self.engine in ['embedded', 'simulated'] || has(self.model)",
    message: 'rollout.model (what the inference server loads) is required for the vllm and sglang engines',
    holds: (s: TrainingRunSpec) => ['embedded', 'simulated'].includes(s.rollout.engine) || !!s.rollout.model,
  },
  {
    path: [],
    rule: "self.trainer != 'torch' || has(self.checkpointing.pvc)",
    message:
      'trainer torch needs checkpointing.pvc: a ReadWriteMany volume through which the rollout pods read the learner’s exports',
    holds: (s: TrainingRunSpec) => s.trainer !== 'torch' || !!s.checkpointing.pvc,
  },
] as const;

/** Parses a spec and applies the cross-field rules; errors name the field, the value and the rule. */
export function parseTrainingRunSpec(input: unknown): TrainingRunSpec {
  const spec = trainingRunSpecSchema.parse(input);
  const broken = crossFieldRules.filter((r) => !r.holds(spec));
  if (broken.length > 0) throw new Error(`TrainingRun spec: ${broken.map((r) => r.message).join('; ')}`);
  return spec;
}
