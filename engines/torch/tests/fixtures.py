import random

from nft_torch.batch import Batch

ARCH = {"layers": 2, "dModel": 16, "heads": 2, "contextLength": 16, "vocabSize": 23}
OBJECTIVE = {"name": "nft"}
OPTIMIZER = {"learningRate": 1e-2, "gradClip": 1.0}


def fixed_batch(seed=3, groups=3, n=4):
    """Groups of `n` responses to random prompts, half right, with behaviour log-probs near uniform."""
    rng = random.Random(seed)
    prompts, responses, old, correct, group = [], [], [], [], []
    for g in range(groups):
        prompt = [rng.randrange(3, ARCH["vocabSize"]) for _ in range(rng.randint(2, 5))]
        for i in range(n):
            response = [rng.randrange(3, ARCH["vocabSize"]) for _ in range(rng.randint(1, 6))] + [2]
            prompts.append(prompt)
            responses.append(response)
            old.append([-3.1 + 0.01 * rng.random() for _ in response])
            correct.append(1 if i % 2 == 0 else 0)
            group.append(g)
    return Batch(prompts, responses, old, correct, group)
