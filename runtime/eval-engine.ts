import { MemoryBus } from '../bus/memory.js';
import type { RunConfig } from '../config/run-config.js';
import { CHARACTERS } from '../engines/embedded/tokenizer.js';
import type { Generation, GenerationListener, PolicyEngine, SampleParams } from '../engines/types.js';
import { createEngines } from './engines.js';

/**
 * The policy engine `nft-train eval` samples from, built by the same factory as a run's generators
 * (`createEngines`), so an engine the factory knows is an engine eval can measure.
 */

export interface EvalEngine {
  engine: PolicyEngine;
  /** What the report names as the engine, e.g. `embedded (.cache/base)`. */
  label: string;
  dispose(): void;
}

export async function createEvalEngine(config: RunConfig, log: (line: string) => void): Promise<EvalEngine> {
  const bus = new MemoryBus();
  const engines = await createEngines(config, bus.blobs, log);
  const policy = await engines.policy(config.seed);
  const dispose = () => {
    policy.dispose();
    engines.dispose();
    void bus.close();
  };
  if (config.engine === 'embedded')
    return {
      engine: new FittedPrompts(policy, (p) => fitEmbeddedPrompt(p, config.model.contextLength)),
      label: `embedded (${config.model.initFrom ?? config.model.checkpoint})`,
      dispose,
    };
  const label =
    config.engine === 'openai'
      ? `openai (${config.openai.url}${config.openai.model ? `, ${config.openai.model}` : ''})`
      : config.engine;
  return { engine: policy, label, dispose };
}

/** Tokens the embedded model is left to answer in, at most: enough for any number it learned to write. */
const EMBEDDED_ANSWER_TOKENS = 8;
const KNOWN = new Set(CHARACTERS);

/**
 * The embedded model reads a 16-character context of digits and a few symbols: a benchmark prompt is
 * reduced to the characters its tokenizer knows, and of those the last ones that leave room for an
 * answer. It exercises the whole evaluation path on a CPU; it cannot solve benchmark problems.
 */
export function fitEmbeddedPrompt(prompt: string, contextLength: number): string {
  const known = [...prompt]
    .filter((c) => KNOWN.has(c))
    .join('')
    .replace(/ +/g, ' ')
    .trim();
  const keep = Math.max(1, contextLength - 1 - EMBEDDED_ANSWER_TOKENS);
  const fitted = known.slice(-keep).trimStart();
  return fitted.length > 0 ? fitted : '=';
}

/** A policy engine whose prompts are rewritten before they reach the wrapped engine. */
class FittedPrompts implements PolicyEngine {
  constructor(
    private readonly inner: PolicyEngine,
    private readonly fit: (prompt: string) => string,
  ) {}

  get version(): number {
    return this.inner.version;
  }

  async generate(
    prompts: string[],
    params: SampleParams,
    listener?: GenerationListener,
  ): Promise<Generation[]> {
    const original = (g: Generation, i: number) => ({ ...g, prompt: prompts[i] ?? g.prompt });
    const generations = await this.inner.generate(
      prompts.map(this.fit),
      params,
      listener && { ...listener, onGroup: (i, g) => listener.onGroup(i, original(g, i)) },
    );
    return generations.map(original);
  }

  load: PolicyEngine['load'] = (ref) => this.inner.load(ref);

  dispose(): void {
    this.inner.dispose();
  }
}
