import { z } from 'zod';
import { InputError } from '../../util/input-error.js';

/**
 * Where and how the run's pods are scheduled on a GPU cluster: node selectors, tolerations, affinity,
 * priority and runtime classes, resources, per kind of pod, and the image pull Secrets of them all. The
 * chart passes its values as JSON (NFT_POD_SETTINGS); the operator puts them on every pod it makes.
 */

const quantities = z.record(z.string(), z.union([z.string(), z.number()]));

export const podPlacementSchema = z
  .object({
    nodeSelector: z.record(z.string(), z.string()).optional().describe('Labels a node must have.'),
    tolerations: z
      .array(z.record(z.string(), z.unknown()))
      .optional()
      .describe('Taints the pods tolerate, e.g. nvidia.com/gpu:NoSchedule.'),
    affinity: z
      .record(z.string(), z.unknown())
      .optional()
      .describe('Node and pod affinity, as in a pod spec.'),
    priorityClassName: z.string().optional().describe('PriorityClass of the pods.'),
    runtimeClassName: z.string().optional().describe('RuntimeClass of the pods, e.g. nvidia.'),
    resources: z
      .object({ requests: quantities.optional(), limits: quantities.optional() })
      .strict()
      .optional()
      .describe("The main container's requests and limits; GPU limits from the spec are added."),
  })
  .strict();

export const podSettingsSchema = z
  .object({
    imagePullSecrets: z
      .array(z.string())
      .default([])
      .describe('Secrets (names) every pod pulls its images with.'),
    learner: podPlacementSchema.default({}).describe('The learner pods (the trainer, on GPUs).'),
    rollout: podPlacementSchema
      .default({})
      .describe('The rollout-worker pods: a generator and its inference server, on GPUs.'),
    verifier: podPlacementSchema.default({}).describe('The verifier pods (CPU).'),
    control: podPlacementSchema.default({}).describe('The coordinator and buffer pods (CPU).'),
  })
  .strict();

export type PodPlacement = z.infer<typeof podPlacementSchema>;
export type PodSettings = z.infer<typeof podSettingsSchema>;

/** Which settings each actor role's pods take. */
const GROUP_OF_ROLE: Record<string, Exclude<keyof PodSettings, 'imagePullSecrets'>> = {
  learner: 'learner',
  generator: 'rollout',
  verifier: 'verifier',
  coordinator: 'control',
  buffer: 'control',
};

export function placementOf(settings: PodSettings | undefined, role: string): PodPlacement {
  const group = GROUP_OF_ROLE[role];
  return (group && settings?.[group]) ?? {};
}

/** Parses NFT_POD_SETTINGS; the error names the field and the value. */
export function parsePodSettings(json: string, origin = 'NFT_POD_SETTINGS'): PodSettings {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (err) {
    throw new InputError(`${origin}: not valid JSON (${(err as Error).message})`);
  }
  const result = podSettingsSchema.safeParse(raw ?? {});
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
  throw new InputError(`${origin}: ${problems.join('; ')}`);
}

/** The pod spec fields a placement sets; an empty value (as Helm's defaults are) sets nothing. */
export function placementFields(placement: PodPlacement, imagePullSecrets: readonly string[]) {
  const { nodeSelector, tolerations, affinity, priorityClassName, runtimeClassName } = placement;
  const set = (v: unknown) =>
    v !== undefined && v !== '' && !(typeof v === 'object' && v !== null && Object.keys(v).length === 0);
  return {
    ...(set(nodeSelector) && { nodeSelector }),
    ...(set(tolerations) && { tolerations }),
    ...(set(affinity) && { affinity }),
    ...(set(priorityClassName) && { priorityClassName }),
    ...(set(runtimeClassName) && { runtimeClassName }),
    ...(imagePullSecrets.length > 0 && { imagePullSecrets: imagePullSecrets.map((name) => ({ name })) }),
  };
}

/** The main container's resources: the placement's, with the spec's GPUs as a limit on top. */
export function containerResources(placement: PodPlacement, gpus: number) {
  const { requests, limits } = placement.resources ?? {};
  const gpuLimit = gpus > 0 ? { 'nvidia.com/gpu': String(gpus) } : {};
  const allLimits = { ...limits, ...gpuLimit };
  const resources = {
    ...(requests && Object.keys(requests).length > 0 && { requests }),
    ...(Object.keys(allLimits).length > 0 && { limits: allLimits }),
  };
  return Object.keys(resources).length > 0 ? { resources } : {};
}
