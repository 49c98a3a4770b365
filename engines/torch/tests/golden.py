import json
import os

GOLDEN_PATH = os.path.join(os.path.dirname(__file__), "..", "golden", "objective-vectors.json")


def load_golden():
    with open(GOLDEN_PATH, encoding="utf-8") as f:
        return json.load(f)
