"""One optimisation step of the policy on a batch of scored groups, checkpoints and weight export."""

import json
import math
import os
import time
from contextlib import nullcontext

import torch
import torch.distributed as dist

from . import safetensors_io
from .batch import pack, plan_micro_batches
from .model import build_model, enable_checkpointing, export_tiny, token_logprobs
from .objective import ObjectiveParams, group_stats, objective
from .tiny_model import TinyCausalLM

CHECKPOINT_FORMAT = "nft-torch-checkpoint/1"
# auto: bf16 autocast on GPUs, float32 on CPUs; bf16: also on a CPU with bf16 instructions (AMX,
# AVX512-BF16); fp32: float32 everywhere. Master weights and optimiser state stay float32.
PRECISIONS = ("auto", "bf16", "fp32")


def cpu_has_bf16():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            flags = f.read()
    except OSError:
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags


class Trainer:
    def __init__(
        self,
        model_spec,
        objective_params,
        optimizer,
        temperature=1.0,
        old_logprobs="behaviour",
        gradient_checkpointing=False,
        micro_batch_tokens=None,
        seed=0,
        device=None,
        precision="auto",
    ):
        self.spec = dict(model_spec)
        self.objective = ObjectiveParams(**objective_params)
        self.temperature = float(temperature)
        self.old_logprobs = old_logprobs
        self.micro_batch_tokens = micro_batch_tokens
        self.world = dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1
        self.rank = dist.get_rank() if self.world > 1 else 0
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.bos = self.spec.get("bos", 1 if self.spec.get("kind") == "embedded" else None)
        self.pad = self.spec.get("pad", 0) or 0
        self.steps = 0
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
        if precision == "bf16" and self.device.type == "cpu" and not cpu_has_bf16():
            raise ValueError("precision bf16 on this CPU: it has neither AMX nor AVX512-BF16; use fp32 or auto")
        self.precision = "bf16" if precision == "bf16" or (precision == "auto" and self.device.type == "cuda") else "fp32"

        module = build_model(self.spec, seed, self.device)
        self.tiny = isinstance(module, TinyCausalLM)
        self.parameters_count = sum(p.numel() for p in module.parameters())
        if gradient_checkpointing:
            enable_checkpointing(module)
        module.to(self.device)
        self.base = module
        # Several ranks: FSDP, parameters, gradients and optimiser state sharded over the ranks (NCCL
        # on GPUs, gloo on CPUs).
        self.sharded = self.world > 1
        self.model = self._shard(module) if self.sharded else module
        self.model.train()
        # FSDP2 shards parameters in place: names stay those of the unwrapped model.
        self.param_names = [n for n, _ in module.named_parameters()]
        self.optimizer = torch.optim.AdamW(
            self.model.parameters(),
            lr=float(optimizer["learningRate"]),
            betas=tuple(optimizer.get("betas", (0.9, 0.999))),
            eps=float(optimizer.get("eps", 1e-8)),
            weight_decay=float(optimizer.get("weightDecay", 0.0)),
        )
        self.grad_clip = float(optimizer.get("gradClip", 1.0))

    def _shard(self, module):
        """FSDP2 over the ranks torchrun started (NCCL on GPUs, gloo on CPUs): one unit per decoder
        layer and the root, fp32 master weights. Works on CPUs, where FSDP1 does not."""
        from torch.distributed.fsdp import fully_shard

        layer_names = set(getattr(module, "_no_split_modules", None) or [])
        if self.tiny:
            from .tiny_model import Block

            layers = [m for m in module.modules() if isinstance(m, Block)]
        else:
            layers = [m for m in module.modules() if type(m).__name__ in layer_names]
        for layer in layers:
            fully_shard(layer)
        return fully_shard(module)

    def _autocast(self):
        if self.precision == "bf16":
            return torch.autocast(self.device.type, dtype=torch.bfloat16)
        return nullcontext()

    def _logprobs(self, input_ids, targets, attention):
        with self._autocast():
            return token_logprobs(self.model, input_ids, targets, attention, self.temperature)

    def logprobs(self, batch):
        """log πθ (at the trainer's temperature) of each response token; rank 0 gets every row."""
        out = [None] * batch.rows
        self.model.eval()
        with torch.no_grad():
            for rows in plan_micro_batches(batch, self.bos, self.micro_batch_tokens, 1):
                ids, targets, attention, _, _, starts = pack(batch, rows, self.bos, self.pad, self.device, False)
                lp = self._logprobs(ids, targets, attention).cpu()
                for r, (i, s) in enumerate(zip(rows, starts)):
                    out[i] = lp[r, s : s + len(batch.responses[i])]
        self.model.train()
        return out

    def step(self, batch):
        """Returns {loss, terms, gradNorm, samples, tokens, seconds}."""
        t0 = time.perf_counter()
        behaviour = batch.old_logprobs
        if self.old_logprobs == "recompute":
            batch.old_logprobs = self.logprobs(batch)
        stats = group_stats(self.objective, batch.correct, batch.group_id)
        n_tokens = batch.tokens
        plans = plan_micro_batches(batch, self.bos, self.micro_batch_tokens, self.world)
        mine = plans[self.rank :: self.world]
        self.optimizer.zero_grad(set_to_none=True)
        # Statistics stay on the device until the end of the step: one synchronisation, not one per pass.
        sums = {}
        ratio_max = torch.zeros((), dtype=torch.float64, device=self.device)
        mismatch_max = torch.zeros((), dtype=torch.float64, device=self.device)
        # FSDP averages gradients over ranks; each rank's share of the sum is scaled back up.
        scale = float(self.world)
        for rows in mine:
            # An empty micro-batch (more ranks than work) still runs, fully masked, so that the ranks'
            # collectives stay in step.
            empty = not rows
            rows = rows or [0]
            ids, targets, attention, mask, old, starts = pack(batch, rows, self.bos, self.pad, self.device)
            if empty:
                mask = torch.zeros_like(mask)
            sub = {k: [v[i] for i in rows] for k, v in stats.items()}
            logp = self._logprobs(ids, targets, attention)
            loss, terms = objective(self.objective, logp, old, mask, stats=sub, n_tokens=n_tokens)
            if batch.on_policy is not None and not empty:
                mismatch = self._mismatch(logp, batch, behaviour, rows, starts, mask)
                if mismatch is not None:
                    sums["mismatchSum"] = sums.get("mismatchSum", 0) + mismatch[0]
                    sums["mismatchTokens"] = sums.get("mismatchTokens", 0) + mismatch[1]
                    mismatch_max = torch.maximum(mismatch_max, mismatch[2])
            (loss * scale).backward()
            for k, v in (("loss", loss), *terms.items()):
                v = v.detach().double()
                if k != "ratioMax":
                    sums[k] = sums[k] + v if k in sums else v
                elif not empty:
                    ratio_max = torch.maximum(ratio_max, v)
        grad_norm = self._clip()
        if not math.isfinite(grad_norm):
            self.optimizer.zero_grad(set_to_none=True)
            raise FloatingPointError(
                f"step {self.steps + 1}: the gradient norm is {grad_norm}; the update was skipped (weights unchanged)"
            )
        self.optimizer.step()
        self.steps += 1
        sums = self._reduce(sums, ratio_max, mismatch_max)
        loss = sums.pop("loss")
        tokens = sums.pop("mismatchTokens", 0)
        mismatch_sum = sums.pop("mismatchSum", 0)
        mismatch_max = sums.pop("mismatchMax")
        if tokens > 0:
            sums["logprobMismatchMean"] = mismatch_sum / tokens
            sums["logprobMismatchMax"] = mismatch_max
            sums["logprobMismatchTokens"] = tokens
        return {
            "loss": loss,
            "terms": sums,
            "gradNorm": grad_norm,
            "samples": batch.rows,
            "tokens": n_tokens,
            "step": self.steps,
            "seconds": time.perf_counter() - t0,
        }

    def _clip(self):
        norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.grad_clip)
        # Sharded parameters give a DTensor: the norm over every rank's shard.
        return float(norm.full_tensor() if hasattr(norm, "full_tensor") else norm)

    def _mismatch(self, logp, batch, behaviour, rows, starts, mask):
        """(Σ|Δ|, tokens, max |Δ|) between the trainer's log-probs and the behaviour ones, on-policy rows only."""
        keep = torch.zeros_like(mask)
        theirs = torch.zeros_like(mask)
        for r, (i, s) in enumerate(zip(rows, starts)):
            if batch.on_policy[i]:
                m = len(batch.responses[i])
                keep[r, s : s + m] = mask[r, s : s + m]
                theirs[r, s : s + m] = torch.as_tensor(behaviour[i], dtype=torch.float32)
        if not bool(keep.any()):
            return None
        diff = (logp.detach().float() - theirs).abs() * keep
        return diff.sum().double(), keep.sum().double(), diff.max().double()

    def _reduce(self, sums, ratio_max, mismatch_max):
        """Sums over micro-batches (and ranks) as floats; ratioMax and mismatchMax are maxima."""
        for k in ("mismatchSum", "mismatchTokens"):
            sums.setdefault(k, torch.zeros((), dtype=torch.float64, device=self.device))
        keys = sorted(sums)
        t = torch.stack([torch.as_tensor(sums[k], dtype=torch.float64, device=self.device) for k in keys])
        maxima = torch.stack([ratio_max, mismatch_max])
        if self.world > 1:
            dist.all_reduce(t)
            dist.all_reduce(maxima, op=dist.ReduceOp.MAX)
        out = dict(zip(keys, t.tolist()))
        out["ratioMax"], out["mismatchMax"] = maxima.tolist()
        return out

    # --- checkpoints --------------------------------------------------------------------------

    def _full_state(self):
        """(weights, optimiser state keyed by parameter name); complete on rank 0 when sharded."""
        if not self.sharded:
            weights = self.base.state_dict()
            raw = self.optimizer.state_dict()["state"]
            optim = {self.param_names[i]: s for i, s in raw.items()}
            return weights, optim
        from torch.distributed.checkpoint.state_dict import StateDictOptions, get_state_dict

        options = StateDictOptions(full_state_dict=True, cpu_offload=True)
        weights, optim = get_state_dict(self.model, self.optimizer, options=options)
        return weights, optim.get("state", {})

    def save(self, path):
        """Weights, AdamW state and step as one safetensors file; returns its size (rank 0)."""
        weights, optim = self._full_state()
        if self.rank != 0:
            return 0
        tensors = {f"w/{k}": v for k, v in weights.items()}
        for name, state in optim.items():
            for key, value in state.items():
                tensors[f"opt/{name}/{key}"] = torch.as_tensor(value)
        meta = {
            "format": CHECKPOINT_FORMAT,
            "step": str(self.steps),
            "model": json.dumps({k: v for k, v in self.spec.items() if k != "weights"}, sort_keys=True),
        }
        tmp = f"{path}.tmp"
        safetensors_io.write(tmp, tensors, meta)
        os.replace(tmp, path)
        return os.path.getsize(path)

    def restore(self, path):
        tensors, meta = safetensors_io.read(path)
        if meta.get("format") != CHECKPOINT_FORMAT:
            raise ValueError(f"restore: {path} has format {meta.get('format')!r}, expected {CHECKPOINT_FORMAT}")
        model_meta = json.loads(meta.get("model", "{}"))
        mine = {k: v for k, v in self.spec.items() if k != "weights"}
        if model_meta.get("kind") != mine.get("kind") or model_meta.get("arch") != mine.get("arch"):
            raise ValueError(f"restore: checkpoint is for model {model_meta}, this trainer has {mine}")
        weights = {k[2:]: v for k, v in tensors.items() if k.startswith("w/")}
        optim = {}
        for k, v in tensors.items():
            if k.startswith("opt/"):
                name, key = k[4:].rsplit("/", 1)
                optim.setdefault(name, {})[key] = v
        if not self.sharded:
            self.base.load_state_dict(weights)
            index = {n: i for i, n in enumerate(self.param_names)}
            state = self.optimizer.state_dict()
            state["state"] = {index[n]: {k: v.clone() for k, v in s.items()} for n, s in optim.items()}
            self.optimizer.load_state_dict(state)
        else:
            self._restore_sharded(weights, optim)
        self.steps = int(meta.get("step", "0"))
        return self.steps

    def _restore_sharded(self, weights, optim):
        from torch.distributed.checkpoint.state_dict import StateDictOptions, set_state_dict

        groups = [dict(g, params=list(self.param_names)) for g in self.optimizer.state_dict()["param_groups"]]
        set_state_dict(
            self.model,
            self.optimizer,
            model_state_dict=weights,
            optim_state_dict={"state": optim, "param_groups": groups},
            options=StateDictOptions(full_state_dict=True),
        )

    def export(self, version, path_dir):
        """Weights an inference server loads: the embedded format for the tiny model, HF's otherwise.

        A Hugging Face export also carries probe.json: fixed token ids and this model's log-probs of
        them, so that whoever loads it can check it serves these very weights.
        """
        weights = self._full_state()[0] if self.sharded else self.base.state_dict()
        probe = None if self.tiny else self._probe()
        if self.rank != 0:
            return path_dir
        if self.tiny:
            return export_tiny(self.base.arch, weights, path_dir, version)
        os.makedirs(path_dir, exist_ok=True)
        self.base.save_pretrained(path_dir, state_dict=weights, safe_serialization=True)
        self._save_tokenizer(path_dir)
        tmp = os.path.join(path_dir, "probe.json.tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(probe, f)
        os.replace(tmp, os.path.join(path_dir, "probe.json"))
        return path_dir

    def _probe(self, length=16):
        """log π(ids[i] | ids[:i]) for fixed ids spread over the vocabulary, at temperature 1, in float32."""
        vocab = int(getattr(getattr(self.base, "config", None), "vocab_size", 0) or 2)
        ids = [(7 * i + 3) % vocab for i in range(length)]
        inputs = torch.tensor([ids[:-1]], device=self.device)
        targets = torch.tensor([ids[1:]], device=self.device)
        attention = torch.ones_like(inputs)
        self.model.eval()
        with torch.no_grad():
            logprobs = token_logprobs(self.model, inputs, targets, attention, 1.0)[0].float().cpu().tolist()
        self.model.train()
        return {"tokenIds": ids, "logprobs": logprobs}

    def _save_tokenizer(self, path_dir):
        name = self.spec.get("tokenizer") or self.spec.get("path")
        if not name:
            return
        try:
            import transformers

            transformers.AutoTokenizer.from_pretrained(name).save_pretrained(path_dir)
        except (OSError, ValueError) as e:  # a config-only model has no tokenizer to copy
            print(f"export: no tokenizer saved ({e})", flush=True)
