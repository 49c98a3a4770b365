import contextlib
import io
import json
import unittest

from nft_torch import gpu_check


class GpuCheckDryRun(unittest.TestCase):
    def test_dry_run_on_cpu_ends_with_one_json_line(self):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            rc = gpu_check.main(["--dry-run", "--steps", "1", "--warmup", "1"])
        last = out.getvalue().strip().splitlines()[-1]
        result = json.loads(last)
        self.assertEqual(rc, 0, last)
        self.assertTrue(result["ok"])
        self.assertTrue(result["parity"]["float64"]["ok"])
        run = result["runs"][0]
        self.assertEqual(run["size"], "tiny")
        self.assertGreater(run["tokensPerSecond"], 0)
        self.assertEqual(run["sequences"], 16)


if __name__ == "__main__":
    unittest.main()
