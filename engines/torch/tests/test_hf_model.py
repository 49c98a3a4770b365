"""The Hugging Face path (model.kind 'hf'): a real tiny Qwen2 when transformers is installed, else a
stand-in module with the few entry points the trainer uses, so the plumbing is checked on any machine."""

import importlib.util
import json
import os
import sys
import tempfile
import types
import unittest

import torch
from torch import nn

from nft_torch import safetensors_io
from nft_torch.trainer import Trainer
from tests.fixtures import OPTIMIZER, fixed_batch

REAL = importlib.util.find_spec("transformers") is not None
CONFIG = {"model_type": "qwen2", "vocab_size": 23, "hidden_size": 32, "intermediate_size": 64,
          "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2}


class StandInLM(nn.Module):
    """A causal LM with HF's calling convention: embeddings, a causal running mean, a linear head."""

    _no_split_modules = ["Linear"]

    def __init__(self, config):
        super().__init__()
        self.config = config
        self.embed = nn.Embedding(config.vocab_size, config.hidden_size)
        self.mix = nn.Linear(config.hidden_size, config.hidden_size)
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size)
        self.calls = []

    def forward(self, input_ids, attention_mask=None, use_cache=None):
        self.calls.append({"mask": attention_mask is not None and attention_mask.shape == input_ids.shape,
                           "use_cache": use_cache})
        x = self.embed(input_ids)
        steps = torch.arange(1, x.shape[1] + 1, dtype=x.dtype)[None, :, None]
        x = torch.tanh(self.mix(x.cumsum(1) / steps))
        return types.SimpleNamespace(logits=self.lm_head(x))

    def gradient_checkpointing_enable(self, gradient_checkpointing_kwargs=None):
        self.checkpointing = gradient_checkpointing_kwargs

    def save_pretrained(self, path, state_dict=None, safe_serialization=True):
        safetensors_io.write(os.path.join(path, "model.safetensors"), state_dict or self.state_dict(), {"format": "pt"})
        with open(os.path.join(path, "config.json"), "w") as f:
            json.dump(vars(self.config), f)


def stand_in_transformers():
    m = types.ModuleType("transformers")
    m.AutoConfig = types.SimpleNamespace(
        for_model=lambda model_type, **kw: types.SimpleNamespace(model_type=model_type, use_cache=True, **kw))
    m.AutoModelForCausalLM = types.SimpleNamespace(from_config=lambda config, torch_dtype=None, **kw: StandInLM(config))

    def no_tokenizer(name):
        raise OSError(f"no tokenizer for {name}")

    m.AutoTokenizer = types.SimpleNamespace(from_pretrained=no_tokenizer)
    return m


class HuggingFacePath(unittest.TestCase):
    def setUp(self):
        self.saved = sys.modules.get("transformers")
        if not REAL:
            sys.modules["transformers"] = stand_in_transformers()

    def tearDown(self):
        if not REAL:
            if self.saved is None:
                sys.modules.pop("transformers", None)
            else:
                sys.modules["transformers"] = self.saved

    def trainer(self, **kw):
        spec = {"kind": "hf", "config": CONFIG, "pad": 0}
        return Trainer(spec, {"name": "nft"}, OPTIMIZER, seed=2, device="cpu", **kw)

    def test_steps_checkpoints_and_export(self):
        t = self.trainer(gradient_checkpointing=True, micro_batch_tokens=40)
        self.assertFalse(t.tiny)
        self.assertIsNone(t.bos)  # no BOS: sequences are prompt + response
        first = t.step(fixed_batch())
        for _ in range(6):
            last = t.step(fixed_batch())
        self.assertLess(last["loss"], first["loss"])
        if not REAL:
            self.assertTrue(all(c["mask"] and c["use_cache"] is False for c in t.base.calls))
            self.assertEqual(t.base.checkpointing, {"use_reentrant": False})
        with tempfile.TemporaryDirectory() as d:
            ckpt = os.path.join(d, "c.safetensors")
            t.save(ckpt)
            after = t.step(fixed_batch(5))
            other = self.trainer(gradient_checkpointing=True, micro_batch_tokens=40)
            other.restore(ckpt)
            self.assertEqual(other.step(fixed_batch(5))["loss"], after["loss"])
            out = t.export(8, os.path.join(d, "v8"))
            self.assertTrue(os.path.isfile(os.path.join(out, "model.safetensors")))
            self.assertTrue(os.path.isfile(os.path.join(out, "config.json")))

    @unittest.skipUnless(REAL, "needs transformers (npm run setup:python)")
    def test_bf16_on_a_cpu_that_has_it(self):
        from nft_torch.trainer import cpu_has_bf16

        if not cpu_has_bf16():
            with self.assertRaisesRegex(ValueError, "neither AMX nor AVX512-BF16"):
                self.trainer(precision="bf16")
            return
        fp32, bf16 = self.trainer(precision="fp32"), self.trainer(precision="bf16")
        self.assertEqual((fp32.precision, bf16.precision), ("fp32", "bf16"))
        a, b = fp32.step(fixed_batch()), bf16.step(fixed_batch())
        # bf16 keeps 8 bits of mantissa: the same step to within a few per cent.
        self.assertAlmostEqual(b["loss"], a["loss"], delta=0.05 * abs(a["loss"]) + 1e-3)
        self.assertAlmostEqual(b["gradNorm"], a["gradNorm"], delta=0.05 * a["gradNorm"])
        for _ in range(6):
            last = bf16.step(fixed_batch())
        self.assertLess(last["loss"], b["loss"])

    def test_an_empty_prompt_needs_a_bos(self):
        t = self.trainer()
        b = fixed_batch()
        b.prompts[0] = []
        with self.assertRaisesRegex(ValueError, "row 0: an empty prompt needs a BOS token"):
            t.step(b)


if __name__ == "__main__":
    unittest.main()
