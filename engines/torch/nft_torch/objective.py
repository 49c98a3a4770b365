"""The learner's objectives (nft/objective.ts, ARCHITECTURE §2; NFT, arXiv 2505.18116), in any float dtype.

Shapes: logp, old_logp, mask [B, T]; correct, group_id one entry per response. Group statistics
(r̂, advantages) are computed in float64 on the host from the whole batch, so a micro-batch or a
data-parallel shard can pass the rows it holds (`stats`) and the batch's token count (`n_tokens`):
every reduction is then a sum, and the shards' losses add up to the whole batch's.
"""

import math
from dataclasses import dataclass

import torch

LOG_RATIO_CAP = 10.0
PPO_OBJECTIVES = ("dapo", "grpo", "drgrpo")


@dataclass(frozen=True)
class ObjectiveParams:
    name: str = "nft"
    negWeight: float = 0.5  # NFT_NEG_WEIGHT in nft/objective-params.ts
    normalize: int = 1
    ratio: str = "token"
    clampNegative: float = 1.0
    clampPositive: float = 0.0
    lossScaleTokens: float = 1000.0
    clipLow: float = 0.2
    clipHigh: float = 0.2
    correctRateMin: float = 0.02
    correctRateMax: float = 0.98
    advantageEps: float = 1e-6


def group_stats(p, correct, group_id):
    """Per response: r̂ = clamp(mean_group(c)), the prompt weight, and the PPO advantage."""
    groups = {}
    for c, g in zip(correct, group_id):
        groups.setdefault(g, []).append(float(c))
    mean = {g: sum(v) / len(v) for g, v in groups.items()}
    std = {g: math.sqrt(sum((x - mean[g]) ** 2 for x in v) / len(v)) for g, v in groups.items()}
    rate = [min(max(mean[g], p.correctRateMin), p.correctRateMax) for g in group_id]
    weight = [prompt_weight(p.normalize, r) for r in rate]
    if p.name == "drgrpo":  # Dr. GRPO: A = c − mean
        adv = [float(c) - mean[g] for c, g in zip(correct, group_id)]
    else:  # GRPO / DAPO: A = (c − mean)/(std + ε), population std
        adv = [(float(c) - mean[g]) / (std[g] + p.advantageEps) for c, g in zip(correct, group_id)]
    return {"rate": rate, "weight": weight, "adv": adv, "correct": [float(c) for c in correct]}


def prompt_weight(normalize, r):
    """normalize 0 → 1, 1 → (1 − r̂), 2 → sqrt((1 − r̂)/r̂)."""
    if normalize == 1:
        return 1.0 - r
    if normalize == 2:
        return math.sqrt((1.0 - r) / r)
    return 1.0


def _min(a, b):
    """min with the gradient to `a` on ties (as the TypeScript reference does); NaN propagates."""
    return torch.where(a > b, b, a)


def _max(a, b):
    return torch.where(a < b, b, a)


def clamp_st(x, m):
    """Straight-through clamp: the value of max(x, m), the gradient of x."""
    return torch.where(x >= m, x, x - x.detach() + m)


def objective(p, logp, old_logp, mask, correct=None, group_id=None, stats=None, n_tokens=None):
    """Returns (loss, terms); `stats` (rows of `group_stats`) replaces correct/group_id when given."""
    if stats is None:
        stats = group_stats(p, correct, group_id)
    rows = lambda key: torch.tensor(stats[key], dtype=logp.dtype, device=logp.device).unsqueeze(1)  # noqa: E731
    mask = mask.to(logp.dtype)
    # Masked first, so padding has ratio 1 and never enters a sequence sum.
    log_ratio = (logp - old_logp) * mask
    cap = torch.tensor(LOG_RATIO_CAP, dtype=logp.dtype, device=logp.device)
    # R_t = exp(min(log πθ − log πold, 10)); sequence: exp(min(Σ_t log-ratio, 10)) per response.
    exponent = log_ratio if p.ratio == "token" else log_ratio.sum(dim=1, keepdim=True)
    R = torch.exp(_min(exponent, cap))

    if n_tokens is None:
        n_tokens = mask.sum().detach()
    n_tokens = max(float(n_tokens), 1.0)
    token_mean = lambda v: (v * mask).sum() / n_tokens  # noqa: E731
    # Σ_i Σ_t ℓ_i,t / lossScaleTokens: a constant divisor, every token weighs the same.
    scaled_sum = lambda v: (v * mask).sum() / p.lossScaleTokens  # noqa: E731

    if p.name in PPO_OBJECTIVES:
        loss, terms, active = _ppo_clip(p, R, rows("adv"), rows("correct"), token_mean, scaled_sum)
    else:
        loss, terms, active = _nft(p, R, rows("rate"), rows("correct"), rows("weight"), scaled_sum)

    with torch.no_grad():
        terms["ratioMean"] = token_mean(R)
        terms["ratioMax"] = (R * mask).max() if mask.numel() else torch.zeros((), dtype=logp.dtype)
        terms["clipFraction"] = token_mean(torch.maximum(active, (exponent > cap).to(logp.dtype)))
    return loss, terms


def _nft(p, R, r_hat, c, w, reduce):
    # L+_t = −log(clampST(R_t, clampPositive)): maximum likelihood on correct answers.
    l_pos = -torch.log(clamp_st(R, p.clampPositive))
    positive = reduce(w * c * l_pos)
    active = c * (p.clampPositive > R).to(R.dtype)
    negative = torch.zeros((), dtype=R.dtype, device=R.device)
    # RFT (negWeight 0) skips the negative term entirely, not even 0·L−.
    if p.negWeight != 0:
        # L−_t = −log(clampST((1 − r̂·R_t)/(1 − r̂), clampNegative)): the implicit negative policy.
        neg_ratio = (1 - r_hat * R) / (1 - r_hat)
        l_neg = -torch.log(clamp_st(neg_ratio, p.clampNegative))
        wrong = 1 - c
        negative = reduce(w * (wrong * p.negWeight) * l_neg)
        active = active + wrong * (p.clampNegative > neg_ratio).to(R.dtype)
    # ℓ_t = w·(c·L+_t + (1 − c)·negWeight·L−_t)
    return positive + negative, {"positive": positive, "negative": negative}, active.detach()


def _ppo_clip(p, R, A, c, token_mean, scaled_sum):
    # −min(R·A, clip(R, 1 − clipLow, 1 + clipHigh)·A) = max(−R·A, −clip(R)·A); ties keep the unclipped.
    lo = torch.tensor(1 - p.clipLow, dtype=R.dtype, device=R.device)
    hi = torch.tensor(1 + p.clipHigh, dtype=R.dtype, device=R.device)
    clipped = _min(_max(R, lo), hi)
    unclipped_loss = -(R * A)
    clipped_loss = -(clipped * A)
    per_token = _max(unclipped_loss, clipped_loss)
    # dapo: token mean over the batch; grpo / drgrpo: reduced like NFT (Σ tokens / lossScaleTokens).
    reduce = token_mean if p.name == "dapo" else scaled_sum
    policy = reduce(per_token)
    # The reduction is linear: the loss splits exactly into the part from right and from wrong answers.
    terms = {"policy": policy, "positive": reduce(per_token * c), "negative": reduce(per_token * (1 - c))}
    return policy, terms, (clipped_loss > unclipped_loss).to(R.dtype).detach()
