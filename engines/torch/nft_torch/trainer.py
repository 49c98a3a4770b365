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

        module = build_model(self.spec, seed, self.device)
        self.tiny = isinstance(module, TinyCausalLM)
        self.parameters_count = sum(p.numel() for p in module.parameters())
        if gradient_checkpointing:
            enable_checkpointing(module)
        module.to(self.device)
        self.base = module
        # Several ranks: FSDP on GPUs; DDP (replicas, gloo) on CPU, where FSDP is not supported.
        self.sharded = self.world > 1 and self.device.type == "cuda"
        if self.sharded:
            self.model = self._shard(module)
        elif self.world > 1:
            self.model = torch.nn.parallel.DistributedDataParallel(module)
        else:
            self.model = module
        self.model.train()
        # Names as in the unwrapped model (FSDP prefixes its wrappers' attribute names).
        self.param_names = [n.replace("_fsdp_wrapped_module.", "") for n, _ in self.model.named_parameters()]
        if not self.sharded:
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
        """FSDP over the ranks torchrun started: one unit per decoder layer, fp32 master weights."""
        import functools

        from torch.distributed.fsdp import FullyShardedDataParallel as FSDP
        from torch.distributed.fsdp.wrap import transformer_auto_wrap_policy

        layer_names = set(getattr(module, "_no_split_modules", None) or [])
        layer_classes = {type(m) for m in module.modules() if type(m).__name__ in layer_names}
        if self.tiny:
            from .tiny_model import Block

            layer_classes = {Block}
        policy = functools.partial(transformer_auto_wrap_policy, transformer_layer_cls=layer_classes)
        return FSDP(module, auto_wrap_policy=policy, device_id=self.device, use_orig_params=True)

    def _autocast(self):
        if self.device.type == "cuda":
            return torch.autocast("cuda", dtype=torch.bfloat16)
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
        # FSDP and DDP average gradients over ranks; each rank's share of the sum is scaled back up.
        scale = float(self.world)
        for rows in mine:
            # An empty micro-batch (more ranks than work) still runs, fully masked, so that the ranks'
            # collectives stay in step.
            empty = not rows
            rows = rows or [0]
            ids, targets, attention, mask, old, _ = pack(batch, rows, self.bos, self.pad, self.device)
            if empty:
                mask = torch.zeros_like(mask)
            sub = {k: [v[i] for i in rows] for k, v in stats.items()}
            logp = self._logprobs(ids, targets, attention)
            loss, terms = objective(self.objective, logp, old, mask, stats=sub, n_tokens=n_tokens)
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
        sums = self._reduce(sums, ratio_max)
        loss = sums.pop("loss")
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
        if self.sharded:
            norm = self.model.clip_grad_norm_(self.grad_clip)
        else:
            norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.grad_clip)
        return float(norm)

    def _reduce(self, sums, ratio_max):
        """Sums over micro-batches (and ranks) as floats; ratioMax is a maximum."""
        keys = sorted(sums)
        t = torch.stack([sums[k] for k in keys])
        if self.world > 1:
            dist.all_reduce(t)
            dist.all_reduce(ratio_max, op=dist.ReduceOp.MAX)
        out = dict(zip(keys, t.tolist()))
        out["ratioMax"] = ratio_max.item()
        return out

    # --- checkpoints --------------------------------------------------------------------------

    def _full_state(self):
        """(weights, optimiser state keyed by parameter name); complete on rank 0 under FSDP."""
        if not self.sharded:
            weights = self.base.state_dict()
            raw = self.optimizer.state_dict()["state"]
            optim = {self.param_names[i]: s for i, s in raw.items()}
            return weights, optim
        from torch.distributed.fsdp import FullOptimStateDictConfig, FullStateDictConfig, StateDictType
        from torch.distributed.fsdp import FullyShardedDataParallel as FSDP

        with FSDP.state_dict_type(
            self.model,
            StateDictType.FULL_STATE_DICT,
            FullStateDictConfig(offload_to_cpu=True, rank0_only=True),
            FullOptimStateDictConfig(offload_to_cpu=True, rank0_only=True),
        ):
            weights = self.model.state_dict()
            optim = FSDP.optim_state_dict(self.model, self.optimizer)["state"]
        return weights, optim

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
        from torch.distributed.fsdp import FullOptimStateDictConfig, FullStateDictConfig, StateDictType
        from torch.distributed.fsdp import FullyShardedDataParallel as FSDP

        with FSDP.state_dict_type(
            self.model,
            StateDictType.FULL_STATE_DICT,
            FullStateDictConfig(offload_to_cpu=True, rank0_only=False),
            FullOptimStateDictConfig(offload_to_cpu=True, rank0_only=False),
        ):
            self.model.load_state_dict(weights)
            full = {"state": optim, "param_groups": self.optimizer.state_dict()["param_groups"]}
            full["param_groups"] = [dict(g, params=list(self.param_names)) for g in full["param_groups"]]
            self.optimizer.load_state_dict(FSDP.optim_state_dict_to_load(self.model, self.optimizer, full))

    def export(self, version, path_dir):
        """Weights an inference server loads: the embedded format for the tiny model, HF's otherwise."""
        weights = self._full_state()[0] if self.sharded else self.base.state_dict()
        if self.rank != 0:
            return path_dir
        if self.tiny:
            return export_tiny(self.base.arch, weights, path_dir, version)
        os.makedirs(path_dir, exist_ok=True)
        self.base.save_pretrained(path_dir, state_dict=weights, safe_serialization=True)
        self._save_tokenizer(path_dir)
        return path_dir

    def _save_tokenizer(self, path_dir):
        name = self.spec.get("tokenizer") or self.spec.get("path")
        if not name:
            return
        try:
            import transformers

            transformers.AutoTokenizer.from_pretrained(name).save_pretrained(path_dir)
        except (OSError, ValueError) as e:  # a config-only model has no tokenizer to copy
            print(f"export: no tokenizer saved ({e})", flush=True)
