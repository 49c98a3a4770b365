"""Builds the policy model and computes per-token log-probs of responses given prompts.

Model specs (the server's `init.model`):
  {"kind": "embedded", "arch": {layers, dModel, heads, contextLength, vocabSize}, "weights": path?,
   "bos": 1, "pad": 0}                          the tiny port of the embedded transformer
  {"kind": "hf", "path": name-or-dir?, "config": {...}?, "bos": id?, "pad": id?,
   "attnImplementation": "sdpa"?}                a Hugging Face causal LM (needs `transformers`)
"""

import contextlib
import json

import torch

from . import safetensors_io
from .tiny_model import EMBEDDED_FORMAT, TinyCausalLM, embedded_name


def have_transformers():
    try:
        import transformers  # noqa: F401
    except ImportError:
        return False
    return True


def build_model(spec, seed=0, device=None):
    """The model on the CPU; a Hugging Face model built from a config is initialised on `device`."""
    kind = spec.get("kind")
    if kind == "embedded":
        model = TinyCausalLM(spec.get("arch") or {}, seed)
        if spec.get("weights"):
            tensors, meta = safetensors_io.read(spec["weights"])
            if meta.get("format") not in (None, EMBEDDED_FORMAT):
                raise ValueError(f"model.weights: {spec['weights']} has format {meta.get('format')!r}")
            model.load_embedded_state(tensors)
        return model
    if kind == "hf":
        if not have_transformers():
            raise ValueError("model.kind 'hf' needs the transformers package (pip install transformers)")
        import transformers

        torch.manual_seed(seed)
        extra = {}
        if spec.get("attnImplementation"):
            extra["attn_implementation"] = spec["attnImplementation"]
        if spec.get("config") is not None:
            cfg = dict(spec["config"])
            model_type = cfg.pop("model_type", None)
            if not model_type:
                raise ValueError("model.config needs 'model_type' (e.g. 'qwen2')")
            config = transformers.AutoConfig.for_model(model_type, **cfg)
            # Random initialisation of billions of parameters is much faster on the GPU (torch >= 2).
            on_device = device is not None and torch.device(device).type == "cuda" and hasattr(torch.device, "__enter__")
            with torch.device(device) if on_device else contextlib.nullcontext():
                return transformers.AutoModelForCausalLM.from_config(config, dtype=torch.float32, **extra)
        if not spec.get("path"):
            raise ValueError("model.kind 'hf' needs 'path' (a hub name or a directory) or 'config'")
        return transformers.AutoModelForCausalLM.from_pretrained(spec["path"], dtype=torch.float32, **extra)
    raise ValueError(f"model.kind must be 'embedded' or 'hf', got {kind!r}")


def enable_checkpointing(model):
    if isinstance(model, TinyCausalLM):
        model.gradient_checkpointing = True
    else:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        if hasattr(model, "config"):
            model.config.use_cache = False


def logits_of(model, input_ids, attention_mask):
    if isinstance(getattr(model, "module", model), TinyCausalLM):  # also inside DDP / FSDP
        return model(input_ids)
    return model(input_ids=input_ids, attention_mask=attention_mask, use_cache=False).logits


def token_logprobs(model, input_ids, targets, attention_mask, temperature):
    """log softmax(logits / temperature)[target], [B, T], in float32 whatever the compute dtype."""
    logits = logits_of(model, input_ids, attention_mask).float()
    if temperature != 1.0:
        logits = logits / temperature
    chosen = logits.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    return chosen - torch.logsumexp(logits, dim=-1)


def export_tiny(arch, state_dict, path_dir, version):
    """model.safetensors with the embedded names + config.json; the TypeScript side converts it back."""
    import os

    os.makedirs(path_dir, exist_ok=True)
    tensors = {embedded_name(k): v for k, v in state_dict.items()}
    meta = {"format": EMBEDDED_FORMAT, "arch": json.dumps(arch, separators=(",", ":")), "version": str(version)}
    safetensors_io.write(os.path.join(path_dir, "model.safetensors"), tensors, meta)
    with open(os.path.join(path_dir, "config.json"), "w", encoding="utf-8") as f:
        json.dump({"model_type": "nft-embedded", **arch}, f)
    return path_dir
