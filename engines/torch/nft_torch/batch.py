"""The teacher-forcing layout (engines/embedded/sequences.ts) and its micro-batches.

  sequence  [BOS] p1 p2 r1 r2      inputs = sequence[:-1], targets = sequence[1:]
  mask      1 on the targets that are response tokens
"""

from dataclasses import dataclass

import torch


@dataclass
class Batch:
    prompts: list  # list of lists of token ids
    responses: list
    old_logprobs: list = None  # per response, a float list/tensor of its length
    correct: list = None
    group_id: list = None
    # 1 where the response was sampled from the weights the trainer holds now: its behaviour log-probs
    # and the trainer's own must agree, and the difference measures the train-inference mismatch.
    on_policy: list = None

    @property
    def rows(self):
        return len(self.responses)

    @property
    def tokens(self):
        return sum(len(r) for r in self.responses)


def plan_micro_batches(batch, bos, max_tokens, parts=1):
    """Row indices per micro-batch: longest first, each at most `max_tokens` padded positions.

    The count is rounded up to a multiple of `parts` (ranks) with empty micro-batches, so that every
    rank runs the same number of forward passes.
    """
    lengths = [len(p) + len(r) + (1 if bos is not None else 0) - 1 for p, r in zip(batch.prompts, batch.responses)]
    order = sorted(range(batch.rows), key=lambda i: -lengths[i])
    plans, current, width = [], [], 0
    for i in order:
        w = max(width, lengths[i])
        if current and max_tokens and w * (len(current) + 1) > max_tokens:
            plans.append(current)
            current, w = [], lengths[i]
        current.append(i)
        width = w
    if current:
        plans.append(current)
    while len(plans) % parts:
        plans.append([])
    return plans


def pack(batch, rows, bos, pad, device, with_old=True):
    """Tensors for the given rows: input_ids, targets, attention_mask, response mask [b, T], old log-probs."""
    seqs = []
    starts = []
    for i in rows:
        prompt, response = list(batch.prompts[i]), list(batch.responses[i])
        seq = ([bos] if bos is not None else []) + prompt + response
        start = len(seq) - len(response) - 1  # target index of the first response token
        if start < 0:
            raise ValueError(f"row {i}: an empty prompt needs a BOS token (model.bos)")
        seqs.append(seq)
        starts.append(start)
    T = max([len(s) - 1 for s in seqs] + [1])
    b = len(seqs)
    input_ids = torch.full((b, T), pad, dtype=torch.long)
    targets = torch.full((b, T), pad, dtype=torch.long)
    attention = torch.zeros((b, T), dtype=torch.long)
    mask = torch.zeros((b, T), dtype=torch.float32)
    old = torch.zeros((b, T), dtype=torch.float32)
    for r, (i, seq, s) in enumerate(zip(rows, seqs, starts)):
        n = len(seq) - 1
        input_ids[r, :n] = torch.tensor(seq[:-1])
        targets[r, :n] = torch.tensor(seq[1:])
        attention[r, :n] = 1
        m = len(batch.responses[i])
        mask[r, s : s + m] = 1
        if with_old and batch.old_logprobs is not None:
            old[r, s : s + m] = torch.as_tensor(batch.old_logprobs[i], dtype=torch.float32)
    to = lambda t: t.to(device, non_blocking=True)  # noqa: E731
    return to(input_ids), to(targets), to(attention), to(mask), to(old), starts
