"""Math-Verify as an oracle for the project's verifier: JSON lines in, JSON lines out.

Each input line is {"gold": str, "response": str}. Each output line is
{"verdict": true|false|null, "seconds": float}: null when Math-Verify raised, `seconds` the time
its parse and verify calls took (process start-up excluded, so rates compare with ours).

The gold answer is parsed as `\\boxed{gold}` with LaTeX extraction and the response with LaTeX
and plain-expression extraction: the convention RL reward functions use with Math-Verify.
"""

import json
import sys
import time

from math_verify import ExprExtractionConfig, LatexExtractionConfig, parse, verify

GOLD_CONFIG = [LatexExtractionConfig()]
RESPONSE_CONFIG = [LatexExtractionConfig(), ExprExtractionConfig()]


def judge(gold: str, response: str) -> bool | None:
    try:
        gold_parsed = parse(f"\\boxed{{{gold}}}", extraction_config=GOLD_CONFIG)
        response_parsed = parse(response, extraction_config=RESPONSE_CONFIG)
        return bool(verify(gold_parsed, response_parsed))
    except Exception:  # noqa: BLE001 - any failure is "no verdict", reported as null
        return None


def main() -> None:
    for line in sys.stdin:
        if not line.strip():
            continue
        pair = json.loads(line)
        start = time.perf_counter()
        verdict = judge(str(pair["gold"]), str(pair["response"]))
        seconds = time.perf_counter() - start
        sys.stdout.write(json.dumps({"verdict": verdict, "seconds": seconds}) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
