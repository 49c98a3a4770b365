"""safetensors files: the `safetensors` package when installed, else this small pure-Python reader/writer.

Format: u64 little-endian header length | JSON header {name: {dtype, shape, data_offsets}, "__metadata__":
{str: str}} padded with spaces to 8 bytes | raw little-endian tensor bytes.
"""

import json
import struct
import sys

import torch

DTYPES = {
    "F64": torch.float64,
    "F32": torch.float32,
    "F16": torch.float16,
    "BF16": torch.bfloat16,
    "I64": torch.int64,
    "I32": torch.int32,
    "I16": torch.int16,
    "I8": torch.int8,
    "U8": torch.uint8,
    "BOOL": torch.bool,
}
NAMES = {v: k for k, v in DTYPES.items()}

try:  # pragma: no cover - depends on the image
    import safetensors.torch as _st
except ImportError:  # pragma: no cover
    _st = None


def _raw_bytes(t):
    t = t.detach().cpu().contiguous().reshape(-1)
    if t.numel() == 0:
        return b""
    return t.view(torch.uint8).numpy().tobytes()


def write(path, tensors, metadata=None, use_package=True):
    """Writes {name: tensor} with string metadata; tensors that share storage are copied."""
    if sys.byteorder != "little":  # pragma: no cover
        raise RuntimeError("safetensors_io: big-endian hosts are not supported")
    meta = {str(k): str(v) for k, v in (metadata or {}).items()}
    if _st is not None and use_package:
        _st.save_file({k: v.detach().cpu().contiguous().clone() for k, v in tensors.items()}, path, metadata=meta)
        return
    header = {"__metadata__": meta} if meta else {}
    blobs = []
    offset = 0
    for name, t in tensors.items():
        if t.dtype not in NAMES:
            raise ValueError(f"safetensors_io: tensor {name!r} has unsupported dtype {t.dtype}")
        raw = _raw_bytes(t)
        header[name] = {"dtype": NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in blobs:
            f.write(raw)


def read(path):
    """Returns ({name: tensor}, metadata) for a file written by any safetensors writer."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise ValueError(f"safetensors_io: {path} is too short to be a safetensors file")
    (n,) = struct.unpack("<Q", data[:8])
    if 8 + n > len(data):
        raise ValueError(f"safetensors_io: {path} has a header of {n} bytes but only {len(data) - 8} follow")
    header = json.loads(data[8 : 8 + n].decode("utf-8"))
    metadata = header.pop("__metadata__", None) or {}
    body = memoryview(data)[8 + n :]
    tensors = {}
    for name, info in header.items():
        dtype = DTYPES.get(info["dtype"])
        if dtype is None:
            raise ValueError(f"safetensors_io: tensor {name!r} in {path} has unsupported dtype {info['dtype']}")
        start, end = info["data_offsets"]
        if end > len(body) or start > end:
            raise ValueError(f"safetensors_io: tensor {name!r} in {path} lies outside the file")
        raw = bytearray(body[start:end])
        flat = torch.frombuffer(raw, dtype=torch.uint8) if raw else torch.empty(0, dtype=torch.uint8)
        tensors[name] = flat.view(dtype).reshape(info["shape"]) if raw else torch.empty(info["shape"], dtype=dtype)
    return tensors, metadata
