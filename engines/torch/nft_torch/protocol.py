"""Request validation for the stdio protocol: every error names the op, the field, the value and the fix."""

import base64
import dataclasses

import torch

from .batch import Batch
from .objective import ObjectiveParams

OPS = ("init", "step", "logprobs", "save", "restore", "export", "shutdown")


class ProtocolError(ValueError):
    def __init__(self, op, field, message):
        super().__init__(f"{op}: field '{field}' {message}")
        self.op = op
        self.field = field


def _show(value):
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def field(req, op, name, kind, required=True, default=None):
    """req[name] checked against `kind`: 'int', 'number', 'string', 'bool', 'object', 'int-list', 'number-list'."""
    if name not in req or req[name] is None:
        if required:
            raise ProtocolError(op, name, f"is required ({kind})")
        return default
    v = req[name]
    ok = {
        "int": lambda x: isinstance(x, int) and not isinstance(x, bool),
        "number": lambda x: isinstance(x, (int, float)) and not isinstance(x, bool),
        "string": lambda x: isinstance(x, str) and x != "",
        "bool": lambda x: isinstance(x, bool),
        "object": lambda x: isinstance(x, dict),
        "int-list": lambda x: isinstance(x, list) and all(isinstance(i, int) and not isinstance(i, bool) for i in x),
        "number-list": lambda x: isinstance(x, list) and all(isinstance(i, (int, float)) for i in x),
    }[kind](v)
    if not ok:
        raise ProtocolError(op, name, f"must be {kind}, got {_show(v)}")
    return v


def decode_array(req, op, name, dtype, count):
    """A base64 little-endian int32/float32 array of exactly `count` values."""
    text = field(req, op, name, "string", required=count > 0, default="")
    try:
        raw = base64.b64decode(text, validate=True)
    except ValueError as e:
        raise ProtocolError(op, name, f"is not valid base64 ({e})") from None
    size = 4
    if len(raw) != count * size:
        raise ProtocolError(
            op, name, f"holds {len(raw) // size} values ({len(raw)} bytes), expected {count} (one per token)"
        )
    if count == 0:
        return torch.empty(0, dtype=dtype)
    return torch.frombuffer(bytearray(raw), dtype=dtype).clone()


def encode_array(t):
    return base64.b64encode(t.detach().cpu().contiguous().to(torch.float32).numpy().tobytes()).decode("ascii")


def sequences(req, op):
    """Prompts and responses from promptLengths, responseLengths and the concatenated `tokens`."""
    p_len = field(req, op, "promptLengths", "int-list")
    r_len = field(req, op, "responseLengths", "int-list")
    if len(p_len) != len(r_len):
        raise ProtocolError(op, "responseLengths", f"has {len(r_len)} entries, promptLengths {len(p_len)}")
    if not r_len:
        raise ProtocolError(op, "responseLengths", "is empty: a batch needs at least one sample")
    if any(n < 0 for n in p_len + r_len):
        raise ProtocolError(op, "promptLengths", "and responseLengths must be >= 0")
    tokens = decode_array(req, op, "tokens", torch.int32, sum(p_len) + sum(r_len)).tolist()
    prompts, responses, at = [], [], 0
    for p, r in zip(p_len, r_len):
        prompts.append(tokens[at : at + p])
        responses.append(tokens[at + p : at + p + r])
        at += p + r
    return prompts, responses, r_len


def step_batch(req):
    prompts, responses, r_len = sequences(req, "step")
    n = len(r_len)
    old = decode_array(req, "step", "oldLogprobs", torch.float32, sum(r_len))
    old_rows = list(torch.split(old, r_len)) if sum(r_len) else [old[:0] for _ in r_len]
    correct = field(req, "step", "correct", "number-list")
    group = field(req, "step", "groupId", "int-list")
    for name, values in (("correct", correct), ("groupId", group)):
        if len(values) != n:
            raise ProtocolError("step", name, f"has {len(values)} entries, expected {n} (one per sample)")
    if any(c not in (0, 1) for c in correct):
        raise ProtocolError("step", "correct", f"must hold rewards 0 or 1, got {_show(correct)}")
    on_policy = field(req, "step", "onPolicy", "int-list", False)
    if on_policy is not None and (len(on_policy) != n or any(v not in (0, 1) for v in on_policy)):
        raise ProtocolError("step", "onPolicy", f"must hold {n} flags 0 or 1 (one per sample), got {_show(on_policy)}")
    return Batch(prompts, responses, old_rows, correct, group, on_policy)


def objective_params(req):
    raw = field(req, "init", "objective", "object")
    known = {f.name for f in dataclasses.fields(ObjectiveParams)}
    for k in raw:
        if k not in known:
            raise ProtocolError("init", f"objective.{k}", f"is unknown; known fields: {', '.join(sorted(known))}")
    if raw.get("name") not in ("nft", "rft", "dapo", "grpo", "drgrpo"):
        raise ProtocolError("init", "objective.name", f"must be nft|rft|dapo|grpo|drgrpo, got {_show(raw.get('name'))}")
    return raw


def optimizer_params(req):
    raw = field(req, "init", "optimizer", "object")
    lr = raw.get("learningRate")
    if not isinstance(lr, (int, float)) or isinstance(lr, bool) or not lr > 0:
        raise ProtocolError("init", "optimizer.learningRate", f"must be a number > 0, got {_show(lr)}")
    clip = raw.get("gradClip", 1.0)
    if not isinstance(clip, (int, float)) or not clip > 0:
        raise ProtocolError("init", "optimizer.gradClip", f"must be a number > 0, got {_show(clip)}")
    return raw


def model_spec(req):
    spec = field(req, "init", "model", "object")
    if spec.get("kind") not in ("embedded", "hf"):
        raise ProtocolError("init", "model.kind", f"must be 'embedded' or 'hf', got {_show(spec.get('kind'))}")
    if spec["kind"] == "embedded" and not isinstance(spec.get("arch"), dict):
        raise ProtocolError("init", "model.arch", "is required for kind 'embedded' ({layers, dModel, heads, ...})")
    return spec
