import unittest

import torch

from nft_torch.objective import ObjectiveParams, objective
from tests.golden import load_golden

REL = 1e-6
ABS = 1e-12


def close(a, b, rel=REL, abs_=ABS):
    return abs(a - b) <= rel * max(abs(a), abs(b)) + abs_


def run_case(case, dtype=torch.float64):
    p = ObjectiveParams(**case["params"])
    x = case["inputs"]
    logp = torch.tensor(x["logp"], dtype=dtype, requires_grad=True)
    loss, terms = objective(
        p,
        logp,
        torch.tensor(x["oldLogp"], dtype=dtype),
        torch.tensor(x["mask"], dtype=dtype),
        x["correct"],
        x["groupId"],
    )
    loss.backward()
    return loss, terms, logp.grad


class GoldenVectors(unittest.TestCase):
    def test_every_case_in_float64(self):
        golden = load_golden()
        self.assertEqual(golden["format"], "nft-objective-golden/1")
        self.assertGreater(len(golden["cases"]), 50)
        for case in golden["cases"]:
            with self.subTest(case["name"]):
                loss, terms, grad = run_case(case)
                self.assertTrue(close(loss.item(), case["loss"]), f"loss {loss.item()} != {case['loss']}")
                self.assertEqual(set(terms), set(case["terms"]))
                for k, v in case["terms"].items():
                    self.assertTrue(close(terms[k].item(), v), f"term {k}: {terms[k].item()} != {v}")
                for r, row in enumerate(case["grad"]):
                    for t, g in enumerate(row):
                        got = grad[r, t].item()
                        self.assertTrue(close(got, g), f"grad[{r},{t}] {got} != {g}")

    def test_float32_within_float32_tolerance(self):
        for case in load_golden()["cases"]:
            with self.subTest(case["name"]):
                loss, _, grad = run_case(case, torch.float32)
                self.assertTrue(close(loss.item(), case["loss"], rel=1e-4, abs_=1e-7))
                want = torch.tensor(case["grad"], dtype=torch.float64)
                self.assertTrue(torch.allclose(grad.double(), want, rtol=1e-4, atol=1e-7))


class OnPolicyIdentity(unittest.TestCase):
    """θ = θold (R = 1): NFT normalize 1 has Dr. GRPO's gradient, normalize 2 has GRPO's (ARCHITECTURE §2)."""

    def grad(self, p, logp, mask, correct, group):
        x = logp.clone().requires_grad_(True)
        loss, _ = objective(p, x, logp.detach(), mask, correct, group)
        loss.backward()
        return x.grad

    def test_identity(self):
        g = torch.Generator().manual_seed(7)
        B, T = 12, 9
        logp = -torch.rand(B, T, generator=g, dtype=torch.float64) * 3
        mask = (torch.arange(T)[None, :] < torch.randint(1, T + 1, (B, 1), generator=g)).double()
        correct = [1, 0, 0, 0, 1, 1, 0, 1, 0, 0, 0, 1]
        group = [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]
        for normalize, other in ((1, "drgrpo"), (2, "grpo")):
            nft = self.grad(ObjectiveParams(name="nft", negWeight=1.0, normalize=normalize), logp, mask, correct, group)
            ppo = self.grad(ObjectiveParams(name=other, advantageEps=0.0), logp, mask, correct, group)
            self.assertTrue(torch.allclose(nft, ppo, rtol=1e-12, atol=1e-15), f"normalize {normalize} vs {other}")
            self.assertGreater(nft.abs().max().item(), 1e-4)


if __name__ == "__main__":
    unittest.main()
