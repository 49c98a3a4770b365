import os
import tempfile
import unittest

import torch

from nft_torch import safetensors_io
from nft_torch.batch import plan_micro_batches
from nft_torch.trainer import Trainer
from nft_torch.tiny_model import TinyCausalLM
from tests.fixtures import ARCH, OBJECTIVE, OPTIMIZER, fixed_batch


def make_trainer(**kw):
    spec = {"kind": "embedded", "arch": ARCH, **kw.pop("model", {})}
    return Trainer(spec, kw.pop("objective", OBJECTIVE), OPTIMIZER, seed=1, device="cpu", **kw)


def params(t):
    return {k: v.detach().clone() for k, v in t.model.state_dict().items()}


class TrainerSteps(unittest.TestCase):
    def test_recompute_starts_every_step_on_policy(self):
        for objective in ("nft", "grpo", "dapo"):
            with self.subTest(objective):
                t = make_trainer(objective={"name": objective}, old_logprobs="recompute")
                for _ in range(3):
                    m = t.step(fixed_batch())
                    if objective == "nft":  # R = 1: both NFT terms are −log 1 = 0
                        self.assertAlmostEqual(m["loss"], 0.0, places=5)
                    self.assertAlmostEqual(m["terms"]["ratioMean"], 1.0, places=6)
                    self.assertGreater(m["gradNorm"], 0)

    def test_mismatch_is_measured_on_on_policy_rows_only(self):
        for mode in ("behaviour", "recompute"):
            with self.subTest(mode):
                t = make_trainer(old_logprobs=mode, micro_batch_tokens=20)
                batch = fixed_batch()
                own = t.logprobs(batch)
                # Behaviour log-probs 0.25 off the trainer's own on even rows, 3 off on odd (off-policy) rows.
                batch.old_logprobs = [lp + (0.25 if i % 2 == 0 else 3.0) for i, lp in enumerate(own)]
                batch.on_policy = [1 - i % 2 for i in range(batch.rows)]
                m = t.step(batch)["terms"]
                tokens = sum(len(r) for i, r in enumerate(batch.responses) if i % 2 == 0)
                self.assertEqual(m["logprobMismatchTokens"], tokens)
                self.assertAlmostEqual(m["logprobMismatchMean"], 0.25, places=5)
                self.assertAlmostEqual(m["logprobMismatchMax"], 0.25, places=5)
        # Without flags (or with none set) nothing is reported.
        t = make_trainer()
        self.assertNotIn("logprobMismatchMean", t.step(fixed_batch())["terms"])
        batch = fixed_batch()
        batch.on_policy = [0] * batch.rows
        self.assertNotIn("logprobMismatchMean", t.step(batch)["terms"])

    def test_nft_loss_falls_on_a_fixed_batch(self):
        t = make_trainer()
        first = t.step(fixed_batch())
        for _ in range(8):
            last = t.step(fixed_batch())
        self.assertLess(last["loss"], first["loss"] - 1e-3, (first, last))
        self.assertGreater(first["gradNorm"], 0)
        self.assertEqual(first["samples"], 12)
        self.assertEqual(first["tokens"], fixed_batch().tokens)
        self.assertEqual(set(first["terms"]), {"positive", "negative", "ratioMean", "ratioMax", "clipFraction"})

    def test_micro_batches_give_the_same_step(self):
        a = make_trainer()
        b = make_trainer(micro_batch_tokens=20)
        ma, mb = a.step(fixed_batch()), b.step(fixed_batch())
        self.assertAlmostEqual(ma["loss"], mb["loss"], places=6)
        self.assertAlmostEqual(ma["gradNorm"], mb["gradNorm"], places=5)
        # Gradients, not weights: Adam's first update is ~lr·sign(g), which amplifies rounding on g ≈ 0.
        for (k, pa), (_, pb) in zip(a.model.named_parameters(), b.model.named_parameters()):
            self.assertTrue(torch.allclose(pa.grad, pb.grad, atol=1e-7), k)

    def test_micro_batch_plan_covers_every_row_once_and_pads_for_ranks(self):
        batch = fixed_batch(1)
        for tokens, parts in ((20, 1), (40, 2), (40, 4), (None, 3)):
            plans = plan_micro_batches(batch, 1, tokens, parts)
            self.assertEqual(sorted(i for p in plans for i in p), list(range(batch.rows)))
            self.assertEqual(len(plans) % parts, 0)
            if tokens:
                for p in plans:
                    width = max([len(batch.prompts[i]) + len(batch.responses[i]) for i in p] + [0])
                    self.assertTrue(len(p) <= 1 or width * len(p) <= tokens, (p, width))

    def test_gradient_checkpointing_gives_the_same_step(self):
        a = make_trainer()
        b = make_trainer(gradient_checkpointing=True)
        ma, mb = a.step(fixed_batch()), b.step(fixed_batch())
        self.assertAlmostEqual(ma["loss"], mb["loss"], places=6)
        self.assertAlmostEqual(ma["gradNorm"], mb["gradNorm"], places=5)

    def test_a_non_finite_gradient_skips_the_update(self):
        t = make_trainer()
        before = params(t)
        b = fixed_batch()
        b.old_logprobs[0] = [float("nan")] * len(b.responses[0])
        with self.assertRaisesRegex(FloatingPointError, "step 1: the gradient norm is nan; the update was skipped"):
            t.step(b)
        self.assertEqual(t.steps, 0)
        for k, v in params(t).items():
            self.assertTrue(torch.equal(v, before[k]), k)

    def test_temperature_scales_logits(self):
        t = make_trainer(temperature=0.5)
        lp = t.logprobs(fixed_batch())
        m = t.base
        b = fixed_batch()
        seq = [1] + b.prompts[0] + b.responses[0]
        logits = m(torch.tensor([seq[:-1]]))[0] / 0.5
        want = torch.log_softmax(logits, -1)[torch.arange(len(seq) - 1), torch.tensor(seq[1:])]
        self.assertTrue(torch.allclose(lp[0], want[len(b.prompts[0]) :], atol=1e-6))


class Checkpoints(unittest.TestCase):
    def test_save_restore_is_bit_exact(self):
        with tempfile.TemporaryDirectory() as d:
            a = make_trainer()
            a.step(fixed_batch(1))
            path = os.path.join(d, "ckpt.safetensors")
            a.save(path)
            a.step(fixed_batch(2))
            after_a = params(a)

            b = make_trainer()
            self.assertEqual(b.restore(path), 1)
            path2 = os.path.join(d, "again.safetensors")
            b.save(path2)
            # The same tensors, bit for bit, and the same metadata (the safetensors package may order
            # the header's metadata differently from one write to the next).
            t1, m1 = safetensors_io.read(path)
            t2, m2 = safetensors_io.read(path2)
            self.assertEqual(m1, m2)
            self.assertEqual(sorted(t1), sorted(t2))
            for k in t1:
                self.assertTrue(torch.equal(t1[k], t2[k]) and t1[k].dtype == t2[k].dtype, k)
            b.step(fixed_batch(2))
            self.assertEqual(b.steps, 2)
            for k, v in params(b).items():
                self.assertTrue(torch.equal(v, after_a[k]), k)

    def test_restore_rejects_another_architecture(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "ckpt.safetensors")
            make_trainer().save(path)
            other = Trainer({"kind": "embedded", "arch": {**ARCH, "dModel": 8}}, OBJECTIVE, OPTIMIZER, device="cpu")
            with self.assertRaisesRegex(ValueError, "checkpoint is for model"):
                other.restore(path)

    def test_export_writes_embedded_weights(self):
        with tempfile.TemporaryDirectory() as d:
            t = make_trainer()
            t.step(fixed_batch())
            out = t.export(3, os.path.join(d, "v3"))
            tensors, meta = safetensors_io.read(os.path.join(out, "model.safetensors"))
            self.assertEqual(meta["format"], "nft-embedded-weights/1")
            self.assertIn("h1.attn.q.w", tensors)
            self.assertEqual(list(tensors["head.w"].shape), [16, 23])
            m = TinyCausalLM(ARCH, seed=9)
            m.load_embedded_state(tensors)
            self.assertTrue(torch.equal(m.head.w, t.base.head.w))
            self.assertTrue(os.path.isfile(os.path.join(out, "config.json")))

    def test_init_from_embedded_weights(self):
        with tempfile.TemporaryDirectory() as d:
            src = TinyCausalLM(ARCH, seed=5)
            path = os.path.join(d, "base.safetensors")
            safetensors_io.write(path, src.embedded_state(), {"format": "nft-embedded-weights/1"})
            t = make_trainer(model={"weights": path})
            self.assertTrue(torch.equal(t.base.tokEmb, src.tokEmb))


if __name__ == "__main__":
    unittest.main()
