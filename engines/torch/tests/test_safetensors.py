import os
import struct
import tempfile
import unittest

import torch

from nft_torch import safetensors_io


class SafetensorsFiles(unittest.TestCase):
    def test_round_trip_every_dtype(self):
        tensors = {
            "f32": torch.randn(3, 4),
            "f64": torch.randn(2, dtype=torch.float64),
            "bf16": torch.randn(5).to(torch.bfloat16),
            "f16": torch.randn(2, 2).to(torch.float16),
            "i32": torch.arange(7, dtype=torch.int32),
            "i64": torch.tensor([-(2**40)], dtype=torch.int64),
            "scalar": torch.tensor(3.5),
            "empty": torch.zeros(0, 4),
        }
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "t.safetensors")
            safetensors_io.write(path, tensors, {"format": "x", "step": 3}, use_package=False)
            got, meta = safetensors_io.read(path)
            with open(path, "rb") as f:
                (n,) = struct.unpack("<Q", f.read(8))
            self.assertEqual(n % 8, 0)
        self.assertEqual(meta, {"format": "x", "step": "3"})
        self.assertEqual(set(got), set(tensors))
        for k, v in tensors.items():
            self.assertEqual(got[k].dtype, v.dtype, k)
            self.assertEqual(tuple(got[k].shape), tuple(v.shape), k)
            self.assertTrue(torch.equal(got[k], v), k)

    def test_truncated_file_is_named(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "bad.safetensors")
            with open(path, "wb") as f:
                f.write(struct.pack("<Q", 100) + b"{}")
            with self.assertRaisesRegex(ValueError, "bad.safetensors has a header of 100 bytes"):
                safetensors_io.read(path)


if __name__ == "__main__":
    unittest.main()
