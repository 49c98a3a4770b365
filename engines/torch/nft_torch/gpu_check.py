"""GPU check of the PyTorch trainer (scripts/gpu-check.sh): throughput, memory, MFU and bf16 objective parity.

Builds randomly initialised Qwen2-architecture models (~0.5B and ~1.5B parameters, from a config: no
downloads), runs trainer steps on synthetic batches (32 prompts × 16 responses of 2–4k tokens, padded
into length-sorted micro-batches, bf16 autocast, gradient checkpointing), and checks the objective
against the float64 golden vectors on the device in float64, float32 and bf16 (tolerances below).
Prints one line per model and, last, one JSON object. `--dry-run`: tiny sizes on CPU with the built-in
model, no transformers needed.
"""

import argparse
import gc
import json
import os
import random
import sys
import time

import torch

from .batch import Batch
from .objective import ObjectiveParams, objective
from .trainer import Trainer

GOLDEN = os.environ.get("NFT_TORCH_GOLDEN") or os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "golden", "objective-vectors.json"
)
# Largest error allowed per dtype, relative to the case's scale (loss: the largest of |loss| and its
# terms; gradient: its largest entry). bf16 keeps 8 significant bits: inputs near −3 round by up to
# 2⁻⁷·4 ≈ 0.016, log-ratios and ratios move by percents, a ratio can cross a clip bound, and a loss that
# is a difference of two terms loses its leading digits. Measured on CPU: bf16 gradients ≤ 0.048, losses
# ≤ 0.18; float32 ≤ 1e-5.
TOLERANCE = {"float64": (1e-6, 1e-6), "float32": (1e-4, 1e-4), "bfloat16": (0.25, 0.1)}
OUT_OF_MEMORY = getattr(torch.cuda, "OutOfMemoryError", RuntimeError)

QWEN2 = {  # Qwen2.5-0.5B / -1.5B shapes
    "0.5b": dict(hidden_size=896, intermediate_size=4864, num_hidden_layers=24, num_attention_heads=14,
                 num_key_value_heads=2, tie_word_embeddings=True),
    "1.5b": dict(hidden_size=1536, intermediate_size=8960, num_hidden_layers=28, num_attention_heads=12,
                 num_key_value_heads=2, tie_word_embeddings=True),
}
QWEN2_COMMON = dict(model_type="qwen2", vocab_size=151936, max_position_embeddings=32768, rope_theta=1e6,
                    rms_norm_eps=1e-6, hidden_act="silu", use_sliding_window=False)
TINY = {"tiny": {"layers": 2, "dModel": 64, "heads": 4, "contextLength": 160, "vocabSize": 64}}

PEAK_BF16 = [  # dense bf16 tensor FLOP/s by device name
    ("H200", 989e12), ("H100 PCIe", 756e12), ("H100 NVL", 835e12), ("H100", 989e12), ("GH200", 989e12),
    ("A100", 312e12), ("L40S", 362e12), ("A10", 125e12),
]


def peak_flops(device):
    if device.type != "cuda":
        return None, "cpu"
    name = torch.cuda.get_device_name(device)
    for key, flops in PEAK_BF16:
        if key in name:
            return flops, name
    return None, name


def synthetic_batch(vocab, prompts, responses, min_len, max_len, seed):
    """Groups of `responses` answers per prompt: prompt ~1/8 of the length, rewards mixed in each group."""
    rng = random.Random(seed)
    g = torch.Generator().manual_seed(seed)
    P, R, old, correct, group = [], [], [], [], []
    for p in range(prompts):
        plen = max(1, min_len // 8 + rng.randrange(max(1, min_len // 8)))
        prompt = torch.randint(3, vocab, (plen,), generator=g).tolist()
        for i in range(responses):
            rlen = max(1, rng.randint(min_len, max_len) - plen)
            P.append(prompt)
            R.append(torch.randint(3, vocab, (rlen,), generator=g).tolist())
            old.append(-torch.rand(rlen, generator=g) * 0.5 - 11.0 if vocab > 1000 else -torch.rand(rlen, generator=g) - 3.5)
            correct.append(1 if (i + p) % 3 == 0 else 0)
            group.append(p)
    return Batch(P, R, old, correct, group)


def spec_for(size, dry_run):
    if dry_run:
        return {"kind": "embedded", "arch": TINY[size], "bos": 1, "pad": 0}
    return {"kind": "hf", "config": {**QWEN2_COMMON, **QWEN2[size]}, "pad": 0, "attnImplementation": "sdpa"}


def run_size(size, args, device, deadline):
    spec = spec_for(size, args.dry_run)
    t0 = time.perf_counter()
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
    trainer = Trainer(
        spec,
        {"name": "nft"},
        {"learningRate": 1e-6, "gradClip": 1.0},
        gradient_checkpointing=not args.no_checkpointing,
        micro_batch_tokens=args.micro_batch_tokens,
        seed=0,
        device=str(device),
    )
    build_s = time.perf_counter() - t0
    vocab = spec["arch"]["vocabSize"] if args.dry_run else QWEN2_COMMON["vocab_size"]
    n_params = trainer.parameters_count
    times, tokens, losses = [], 0, []
    for i in range(args.warmup + args.steps):
        batch = synthetic_batch(vocab, args.prompts, args.responses, args.min_len, args.max_len, seed=i)
        all_tokens = sum(len(p) + len(r) for p, r in zip(batch.prompts, batch.responses))
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        s = time.perf_counter()
        m = trainer.step(batch)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        dt = time.perf_counter() - s
        losses.append(m["loss"])
        if i >= args.warmup:
            times.append(dt)
            tokens = all_tokens
        # Past the time budget, stop after the first timed step rather than overrun.
        if times and time.perf_counter() + dt > deadline:
            break
    step_s = sum(times) / len(times)
    peak, card = peak_flops(device)
    mfu = 6 * n_params * tokens / step_s / peak if peak else None
    peak_mem = torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else None
    del trainer, m
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()  # the next model starts from an empty card
    return {
        "size": size,
        "parameters": n_params,
        "buildSeconds": round(build_s, 2),
        "sequences": args.prompts * args.responses,
        "tokensPerStep": tokens,
        "stepSeconds": round(step_s, 3),
        "tokensPerSecond": round(tokens / step_s, 1),
        "peakMemoryGiB": None if peak_mem is None else round(peak_mem, 2),
        "mfu": None if mfu is None else round(mfu, 4),
        "card": card,
        "timedSteps": len(times),
        "losses": [round(x, 6) for x in losses],
        "finite": all(x == x and abs(x) != float("inf") for x in losses),
    }


def parity(device):
    """Worst (loss, gradient) error over the golden cases per dtype, objective run on `device`."""
    with open(GOLDEN, encoding="utf-8") as f:
        cases = json.load(f)["cases"]
    out = {"cases": len(cases)}
    for key, (loss_tol, grad_tol) in TOLERANCE.items():
        dtype = getattr(torch, key)
        if dtype == torch.bfloat16 and device.type == "cpu" and not _cpu_bf16_ok():
            continue
        worst = {"loss": 0.0, "grad": 0.0, "lossCase": None, "gradCase": None}
        for case in cases:
            x = case["inputs"]
            logp = torch.tensor(x["logp"], dtype=dtype, device=device, requires_grad=True)
            loss, _ = objective(
                ObjectiveParams(**case["params"]),
                logp,
                torch.tensor(x["oldLogp"], dtype=dtype, device=device),
                torch.tensor(x["mask"], dtype=dtype, device=device),
                x["correct"],
                x["groupId"],
            )
            loss.backward()
            want_g = torch.tensor(case["grad"], dtype=torch.float64)
            terms = [abs(v) for k, v in case["terms"].items() if k in ("positive", "negative", "policy")]
            scale = max([abs(case["loss"])] + terms)
            errs = {
                "loss": abs(loss.double().item() - case["loss"]) / max(scale, 1e-12),
                "grad": (logp.grad.double().cpu() - want_g).abs().max().item() / max(want_g.abs().max().item(), 1e-12),
            }
            for k, e in errs.items():
                if e > worst[k]:
                    worst[k], worst[k + "Case"] = e, case["name"]
        worst["tolerance"] = {"loss": loss_tol, "grad": grad_tol}
        worst["ok"] = worst["loss"] <= loss_tol and worst["grad"] <= grad_tol
        out[key] = worst
    out["ok"] = all(v["ok"] for k, v in out.items() if isinstance(v, dict))
    return out


def _cpu_bf16_ok():
    try:
        t = torch.ones(2, dtype=torch.bfloat16, requires_grad=True)
        torch.log(torch.exp(t)).sum().backward()
        return True
    except RuntimeError:
        return False


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dry-run", action="store_true", help="tiny built-in model on CPU, small batches")
    ap.add_argument("--sizes", default=None, help="comma-separated: 0.5b,1.5b (default both)")
    ap.add_argument("--steps", type=int, default=2, help="timed steps per model")
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--prompts", type=int, default=32)
    ap.add_argument("--responses", type=int, default=16)
    ap.add_argument("--min-len", type=int, default=2048, help="shortest sequence (prompt + response)")
    ap.add_argument("--max-len", type=int, default=4096)
    ap.add_argument("--micro-batch-tokens", type=int, default=8192)
    ap.add_argument("--no-checkpointing", action="store_true")
    ap.add_argument("--budget-s", type=float, default=450, help="seconds: fewer steps, then skipped models, past this")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    if args.dry_run:
        args.sizes = args.sizes or "tiny"
        args.prompts, args.responses = min(args.prompts, 4), min(args.responses, 4)
        args.min_len, args.max_len = min(args.min_len, 48), min(args.max_len, 96)
        args.micro_batch_tokens = min(args.micro_batch_tokens, 512)
        device = torch.device("cpu")
    else:
        if not torch.cuda.is_available():
            sys.exit("gpu_check: no CUDA device (use --dry-run for the CPU smoke test)")
        try:
            import transformers  # noqa: F401
        except ImportError:
            sys.exit("gpu_check: needs transformers for the Qwen2 models (pip install transformers)")
        device = torch.device("cuda")
        torch.backends.cuda.matmul.allow_tf32 = True
    sizes = (args.sizes or "0.5b,1.5b").split(",")
    result = {"ok": True, "device": peak_flops(device)[1], "torch": torch.__version__, "dryRun": args.dry_run}
    result["parity"] = parity(device)
    print(f"parity: {json.dumps(result['parity'])}", flush=True)
    runs, skipped = [], []
    for size in sizes:
        if runs and time.perf_counter() - t0 > args.budget_s:
            skipped.append(size)
            continue
        try:
            r = run_size(size, args, device, t0 + args.budget_s)
        except OUT_OF_MEMORY as e:
            r = {"size": size, "error": f"out of memory: {e}"[:300], "finite": False}
        runs.append(r)
        print(
            f"{size}: {r.get('parameters', 0) / 1e6:.2f}M params, {r.get('tokensPerStep')} tokens/step, "
            f"step {r.get('stepSeconds')} s, {r.get('tokensPerSecond')} tokens/s, "
            f"peak {r.get('peakMemoryGiB')} GiB, MFU {r.get('mfu')}",
            flush=True,
        )
    result["runs"] = runs
    result["skipped"] = skipped
    result["ok"] = result["parity"]["ok"] and bool(runs) and all(r.get("finite") for r in runs)
    result["seconds"] = round(time.perf_counter() - t0, 1)
    print(json.dumps(result), flush=True)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
