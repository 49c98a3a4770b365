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


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TwoRanks(unittest.TestCase):
    """The server under WORLD_SIZE=2 (as torchrun starts it; DDP over gloo on CPU) matches one process."""

    def test_two_ranks_match_one_process(self):
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

        try:
            with tempfile.TemporaryDirectory() as d:
                info = call({"id": 1, "op": "init", "model": {"kind": "embedded", "arch": ARCH},
                             "objective": OBJECTIVE, "optimizer": OPTIMIZER, "microBatchTokens": MICRO, "seed": 1})
                self.assertEqual(info["worldSize"], 2)
                got = [call(step_request(fixed_batch(s), 10 + s)) for s in (1, 2)]
                ckpt = os.path.join(d, "c.safetensors")
                call({"id": 20, "op": "save", "path": ckpt})
                exported = call({"id": 21, "op": "export", "version": 2, "dir": os.path.join(d, "v2")})
                self.assertTrue(os.path.isfile(os.path.join(exported["path"], "model.safetensors")))
                call({"id": 22, "op": "shutdown"})
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

                one = Trainer({"kind": "embedded", "arch": ARCH, "bos": 1, "pad": 0}, OBJECTIVE, OPTIMIZER,
                              micro_batch_tokens=MICRO, seed=1, device="cpu")
                want = [one.step(fixed_batch(s)) for s in (1, 2)]
                for g, w in zip(got, want):
                    self.assertAlmostEqual(g["loss"], w["loss"], places=6)
                    self.assertAlmostEqual(g["gradNorm"], w["gradNorm"], places=5)
                    for k in w["terms"]:
                        self.assertAlmostEqual(g["terms"][k], w["terms"][k], places=5, msg=k)
                tensors, meta = safetensors_io.read(ckpt)
                self.assertEqual(meta["step"], "2")
                for k, v in one.base.state_dict().items():
                    self.assertTrue(torch.allclose(tensors["w/" + k], v, atol=1e-4), k)
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
