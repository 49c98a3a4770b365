import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

import torch

from nft_torch import safetensors_io
from nft_torch.trainer import Trainer
from tests.fixtures import ARCH, OBJECTIVE, OPTIMIZER, fixed_batch
from tests.test_server import ROOT, step_request

MICRO = 40  # padded positions per micro-batch: 3 micro-batches, so one rank also runs an empty one
HAVE_TRANSFORMERS = importlib.util.find_spec("transformers") is not None
# A real Qwen2, small: 2 layers of 4 heads (2 key-value heads), the fixtures' vocabulary.
QWEN2 = {"model_type": "qwen2", "vocab_size": 23, "hidden_size": 32, "intermediate_size": 64,
         "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2}
# Two ranks sum their shards' gradients in another order than one process: float32 rounding only.
PLACES_LOSS = 6
PLACES_GRAD = 5


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TwoRanks(unittest.TestCase):
    """The server under WORLD_SIZE=2, as torchrun starts it (FSDP2 over gloo on the CPU), against one
    process: the same steps within float32 rounding, a resume that continues bit for bit, and exports
    that load. Run for the embedded model's port and for a Hugging Face Qwen2."""

    def test_the_embedded_model_on_two_ranks(self):
        self.run_two_ranks({"kind": "embedded", "arch": ARCH}, {"kind": "embedded", "arch": ARCH, "bos": 1, "pad": 0})

    @unittest.skipUnless(HAVE_TRANSFORMERS, "needs transformers (npm run setup:python)")
    def test_a_hugging_face_qwen2_on_two_ranks(self):
        spec = {"kind": "hf", "config": QWEN2, "pad": 0}
        exported = self.run_two_ranks(spec, spec)
        import transformers

        # The export is a Hugging Face directory; its probe holds the trainer's own log-probs.
        model = transformers.AutoModelForCausalLM.from_pretrained(exported, dtype=torch.float32)
        with open(os.path.join(exported, "probe.json"), encoding="utf-8") as f:
            probe = json.load(f)
        ids = torch.tensor([probe["tokenIds"]])
        with torch.no_grad():
            logits = model(input_ids=ids).logits.float()
        logp = torch.log_softmax(logits, -1)[0, :-1].gather(-1, ids[0, 1:, None])[:, 0]
        self.assertTrue(torch.allclose(logp, torch.tensor(probe["logprobs"]), atol=1e-5))

    def run_two_ranks(self, spec, local_spec):
        port = free_port()
        procs = []
        for rank in (0, 1):
            env = dict(os.environ, PYTHONPATH=ROOT, MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port),
                       RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE="2", LOCAL_WORLD_SIZE="2")
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "nft_torch.server"],
                stdin=subprocess.PIPE if rank == 0 else subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True,
            ))
        lead = procs[0]

        def call(req):
            lead.stdin.write(json.dumps(req) + "\n")
            lead.stdin.flush()
            line = lead.stdout.readline()
            if not line:
                self.fail(f"rank 0 closed stdout; stderr: {lead.stderr.read()[-3000:]}")
            res = json.loads(line)
            self.assertTrue(res["ok"], res)
            return res["result"]

        d = tempfile.mkdtemp()
        try:
            info = call({"id": 1, "op": "init", "model": spec, "objective": OBJECTIVE, "optimizer": OPTIMIZER,
                         "microBatchTokens": MICRO, "seed": 1})
            self.assertEqual(info["worldSize"], 2)
            got = [call(step_request(fixed_batch(s), 10 + s)) for s in (1, 2)]
            ckpt = os.path.join(d, "c.safetensors")
            call({"id": 20, "op": "save", "path": ckpt})
            third = call(step_request(fixed_batch(3), 21))
            # Back to the checkpoint: the same step again gives the very same numbers.
            call({"id": 22, "op": "restore", "path": ckpt})
            again = call(step_request(fixed_batch(3), 23))
            self.assertEqual(again["loss"], third["loss"])
            self.assertEqual(again["gradNorm"], third["gradNorm"])
            exported = call({"id": 24, "op": "export", "version": 2, "dir": os.path.join(d, "v2")})
            self.assertTrue(os.path.isfile(os.path.join(exported["path"], "model.safetensors")))
            call({"id": 25, "op": "shutdown"})
            for p in procs:
                try:
                    p.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    for q in procs:
                        q.send_signal(signal.SIGUSR1)  # stacks to stderr
                    time.sleep(2)
                    for q in procs:
                        q.kill()
                    self.fail("a rank did not exit: " + " ||| ".join(q.stderr.read()[-4000:] for q in procs))
                self.assertEqual(p.returncode, 0, p.stderr.read()[-3000:])
            self.assertEqual(procs[1].stdout.read(), "", "only rank 0 answers")

            one = Trainer(local_spec, OBJECTIVE, OPTIMIZER, micro_batch_tokens=MICRO, seed=1, device="cpu")
            want = [one.step(fixed_batch(s)) for s in (1, 2)]
            for g, w in zip(got, want):
                self.assertAlmostEqual(g["loss"], w["loss"], places=PLACES_LOSS)
                self.assertAlmostEqual(g["gradNorm"], w["gradNorm"], places=PLACES_GRAD)
                for k in w["terms"]:
                    self.assertAlmostEqual(g["terms"][k], w["terms"][k], places=PLACES_GRAD, msg=k)
            tensors, meta = safetensors_io.read(ckpt)
            self.assertEqual(meta["step"], "2")
            for k, v in one.base.state_dict().items():
                self.assertTrue(torch.allclose(tensors["w/" + k], v, atol=1e-4), k)
            return exported["path"]
        finally:
            for p in procs:
                if p.poll() is None:
                    p.kill()
                p.wait()
                for f in (p.stdin, p.stdout, p.stderr):
                    if f:
                        f.close()


if __name__ == "__main__":
    unittest.main()
