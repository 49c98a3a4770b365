import base64
import json
import os
import struct
import subprocess
import sys
import tempfile
import unittest

from tests.fixtures import ARCH, OBJECTIVE, OPTIMIZER, fixed_batch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def b64(fmt, values):
    return base64.b64encode(struct.pack(f"<{len(values)}{fmt}", *values)).decode()


def step_request(batch, rid):
    tokens, old = [], []
    for p, r, o in zip(batch.prompts, batch.responses, batch.old_logprobs):
        tokens += p + r
        old += o
    return {
        "id": rid,
        "op": "step",
        "promptLengths": [len(p) for p in batch.prompts],
        "responseLengths": [len(r) for r in batch.responses],
        "tokens": b64("i", tokens),
        "oldLogprobs": b64("f", old),
        "correct": batch.correct,
        "groupId": batch.group_id,
    }


class ServerProtocol(unittest.TestCase):
    def setUp(self):
        env = dict(os.environ, PYTHONPATH=ROOT)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "nft_torch.server"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
        )
        self.next_id = 0

    def tearDown(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()
        self.proc.stdin.close()

    def send(self, req):
        self.proc.stdin.write((req if isinstance(req, str) else json.dumps(req)) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            self.fail(f"server closed stdout; stderr: {self.proc.stderr.read()[-2000:]}")
        return json.loads(line)

    def call(self, op, **fields):
        self.next_id += 1
        res = self.send({"id": self.next_id, "op": op, **fields})
        self.assertEqual(res["id"], self.next_id)
        return res

    def init(self):
        res = self.call("init", model={"kind": "embedded", "arch": ARCH}, objective=OBJECTIVE, optimizer=OPTIMIZER)
        self.assertTrue(res["ok"], res)
        return res["result"]

    def test_init_step_save_restore_export(self):
        info = self.init()
        self.assertEqual(info["worldSize"], 1)
        self.assertTrue(info["tiny"])
        batch = fixed_batch()
        first = self.send(step_request(batch, "s1"))
        self.assertTrue(first["ok"], first)
        self.assertEqual(first["result"]["samples"], batch.rows)
        with tempfile.TemporaryDirectory() as d:
            ckpt = os.path.join(d, "c.safetensors")
            saved = self.call("save", path=ckpt)
            self.assertTrue(saved["ok"], saved)
            self.assertEqual(saved["result"]["step"], 1)
            self.assertEqual(saved["result"]["bytes"], os.path.getsize(ckpt))
            second = self.send(step_request(batch, "s2"))["result"]
            self.assertEqual(self.call("restore", path=ckpt)["result"]["step"], 1)
            again = self.send(step_request(batch, "s3"))["result"]
            self.assertEqual(again["loss"], second["loss"])
            self.assertEqual(again["gradNorm"], second["gradNorm"])
            exported = self.call("export", version=4, dir=os.path.join(d, "v4"))["result"]
            self.assertEqual(exported["format"], "nft-embedded")
            self.assertTrue(os.path.isfile(os.path.join(exported["path"], "model.safetensors")))
        lp = self.call(
            "logprobs",
            promptLengths=[2],
            responseLengths=[3],
            tokens=b64("i", [4, 5, 6, 7, 2]),
        )["result"]["logprobs"]
        values = struct.unpack("<3f", base64.b64decode(lp))
        self.assertTrue(all(v < 0 for v in values))
        self.assertEqual(self.call("shutdown")["ok"], True)
        self.assertEqual(self.proc.wait(timeout=10), 0)

    def assert_error(self, res, field, *phrases):
        self.assertFalse(res["ok"], res)
        err = res["error"]
        self.assertEqual(err["field"], field, err)
        for phrase in phrases:
            self.assertIn(phrase, err["message"])

    def test_bad_requests_name_the_field(self):
        self.assert_error(self.call("step"), "op", "needs a successful 'init' first")
        self.assert_error(self.call("train"), "op", "must be one of init, step")
        self.assert_error(self.send("{not json"), "request", "not JSON")
        self.assert_error(self.send({"op": "init"}), "id", "must be an integer or string")
        self.assert_error(
            self.call("init", model={"kind": "embedded", "arch": ARCH}, objective=OBJECTIVE, optimizer={}),
            "optimizer.learningRate",
            "must be a number > 0",
        )
        self.assert_error(
            self.call("init", model={"kind": "onnx"}, objective=OBJECTIVE, optimizer=OPTIMIZER),
            "model.kind",
            "'embedded' or 'hf'",
        )
        self.assert_error(
            self.call("init", model={"kind": "embedded", "arch": ARCH}, objective={"name": "nft", "bogus": 1},
                      optimizer=OPTIMIZER),
            "objective.bogus",
            "unknown",
        )
        self.init()
        req = step_request(fixed_batch(), 99)
        req["correct"] = req["correct"][:-1]
        self.assert_error(self.send(req), "correct", "has 11 entries, expected 12")
        req = step_request(fixed_batch(), 100)
        req["tokens"] = b64("i", [3, 4])
        self.assert_error(self.send(req), "tokens", "holds 2 values", "expected")
        req = step_request(fixed_batch(), 101)
        del req["oldLogprobs"]
        self.assert_error(self.send(req), "oldLogprobs", "is required")
        self.assert_error(self.call("restore", path="/nonexistent/c.safetensors"), "path", "names no file")
        self.assert_error(self.call("export", dir="/tmp/x"), "version", "is required")
        # Still serving after every error.
        self.assertTrue(self.send(step_request(fixed_batch(), 102))["ok"])

    def test_end_of_input_exits(self):
        self.proc.stdin.close()
        self.assertEqual(self.proc.wait(timeout=30), 0)


if __name__ == "__main__":
    unittest.main()
