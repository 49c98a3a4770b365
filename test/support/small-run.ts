/**
 * A small run on the simulated engines: 4 prompts × 4 samples per step, staleness bound 2, 32 held-out
 * problems evaluated every 10 steps. Short responses keep batch messages under NATS's 1 MB limit.
 * `msPerSecond` sets the pace; the rest of `extra` overrides top-level fields.
 */
export function smallSimulatedRun(msPerSecond: number, extra: Record<string, unknown> = {}) {
  return {
    engine: 'simulated',
    simulated: { msPerSecond, medianTokens: 64, maxTokens: 512, secondsPerToken: 0.5 },
    steps: 20,
    promptsPerStep: 4,
    groupSize: 4,
    maxStaleness: 2,
    dataset: { arithmetic: { heldOutSize: 32 } },
    eval: { everySteps: 10, targetAccuracy: 1 },
    ...extra,
  };
}
