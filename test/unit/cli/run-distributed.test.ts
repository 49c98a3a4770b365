import { describe, expect, it } from 'vitest';
import { replicaCounts } from '../../../cli/run-distributed.js';

describe('--processes', () => {
  const defaults = { generator: 1, verifier: 1 };

  it('overrides the replica counts of generators and verifiers', () => {
    expect(replicaCounts(undefined, defaults)).toEqual(defaults);
    expect(replicaCounts('generator=3,verifier=2', defaults)).toEqual({ generator: 3, verifier: 2 });
    expect(replicaCounts(' generator=4 ', defaults)).toEqual({ generator: 4, verifier: 1 });
  });

  it.each(['learner=2', 'generator=0', 'generator=x', 'generator', 'generator=2,buffer=1'])(
    'rejects %j, naming the flag and the expected form',
    (spec) => {
      expect(() => replicaCounts(spec, defaults)).toThrow(/--processes .*generator=3,verifier=2/);
    },
  );
});
