"""`python3 -m nft_torch.server`: the trainer behind a JSON-lines protocol on stdin/stdout (docs/torch-trainer.md).

One request per line {id, op, ...}; one response per line {id, ok, result | error}. Under torchrun
(WORLD_SIZE > 1) rank 0 reads the requests and broadcasts them, every rank runs them (FSDP), and rank 0
answers. Anything else written to stdout (library banners, prints) is sent to stderr.
"""

import faulthandler
import json
import os
import signal
import sys
import time
import traceback

import torch

from . import protocol
from .protocol import ProtocolError, field


class Server:
    def __init__(self, rank=0):
        self.trainer = None
        self.rank = rank

    def handle(self, req):
        op = req.get("op")
        if op not in protocol.OPS:
            raise ProtocolError(str(op), "op", f"must be one of {', '.join(protocol.OPS)}, got {op!r}")
        if op != "init" and op != "shutdown" and self.trainer is None:
            raise ProtocolError(op, "op", "needs a successful 'init' first")
        return getattr(self, "op_" + op)(req)

    def op_init(self, req):
        from .trainer import PRECISIONS, Trainer

        if self.trainer is not None:
            raise ProtocolError("init", "op", "was already called; start a new server for a new model")
        spec = protocol.model_spec(req)
        temperature = field(req, "init", "temperature", "number", False, 1.0)
        if not temperature > 0:
            raise ProtocolError("init", "temperature", f"must be > 0, got {temperature}")
        old = field(req, "init", "oldLogprobs", "string", False, "behaviour")
        if old not in ("behaviour", "recompute"):
            raise ProtocolError("init", "oldLogprobs", f"must be 'behaviour' or 'recompute', got {old!r}")
        mbt = field(req, "init", "microBatchTokens", "int", False, None)
        seed = field(req, "init", "seed", "int", False, 0)
        objective = protocol.objective_params(req)
        optimizer = protocol.optimizer_params(req)
        checkpointing = field(req, "init", "gradientCheckpointing", "bool", False, False)
        precision = field(req, "init", "precision", "string", False, "auto")
        if precision not in PRECISIONS:
            raise ProtocolError("init", "precision", f"must be one of {', '.join(PRECISIONS)}, got {precision!r}")
        torch.manual_seed(seed)
        try:
            self.trainer = Trainer(
                spec,
                objective,
                optimizer,
                temperature=temperature,
                old_logprobs=old,
                gradient_checkpointing=checkpointing,
                micro_batch_tokens=mbt,
                seed=seed,
                precision=precision,
            )
        except ProtocolError:
            raise
        except (TypeError, ValueError) as e:  # the model spec's contents (arch, weights, config)
            raise ProtocolError("init", "model", str(e)) from None
        t = self.trainer
        return {
            "parameters": t.parameters_count,
            "device": str(t.device),
            "worldSize": t.world,
            "step": t.steps,
            "tiny": t.tiny,
            "precision": t.precision,
            "torch": torch.__version__,
        }

    def op_step(self, req):
        return self.trainer.step(protocol.step_batch(req))

    def op_logprobs(self, req):
        prompts, responses, _ = protocol.sequences(req, "logprobs")
        from .batch import Batch

        rows = self.trainer.logprobs(Batch(prompts, responses))
        flat = torch.cat(rows) if rows else torch.empty(0)
        return {"logprobs": protocol.encode_array(flat)}

    def op_save(self, req):
        path = field(req, "save", "path", "string")
        return {"path": path, "bytes": self.trainer.save(path), "step": self.trainer.steps}

    def op_restore(self, req):
        path = field(req, "restore", "path", "string")
        if not os.path.isfile(path):
            raise ProtocolError("restore", "path", f"names no file: {path!r}")
        return {"step": self.trainer.restore(path)}

    def op_export(self, req):
        version = field(req, "export", "version", "int")
        path = field(req, "export", "dir", "string")
        out = self.trainer.export(version, path)
        return {"path": out, "version": version, "format": "nft-embedded" if self.trainer.tiny else "hf"}

    def op_shutdown(self, req):
        return {}


def respond(out, rid, ok, payload):
    msg = {"id": rid, "ok": ok, ("result" if ok else "error"): payload}
    out.write(json.dumps(msg, separators=(",", ":"), allow_nan=False) + "\n")
    out.flush()


def error_payload(op, e):
    if isinstance(e, ProtocolError):
        return {"type": "protocol", "op": e.op, "field": e.field, "message": str(e)}
    tb = traceback.format_exc(limit=8)
    print(tb, file=sys.stderr, flush=True)
    return {"type": type(e).__name__, "op": op, "message": f"{op}: {type(e).__name__}: {e}"}


def main():
    # `kill -USR1 <pid>` prints every thread's stack to stderr: for a trainer that seems stuck.
    if hasattr(signal, "SIGUSR1"):
        faulthandler.register(signal.SIGUSR1, all_threads=True)
    # The protocol owns the real stdout; stray writes (prints, banners) go to stderr.
    out = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = 0
    if world > 1:
        import torch.distributed as dist

        if torch.cuda.is_available():
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
        rank = dist.get_rank()
    server = Server(rank)
    while True:
        line = sys.stdin.readline() if rank == 0 else ""
        if world > 1:
            box = [line]
            dist.broadcast_object_list(box, src=0)
            line = box[0]
        if line == "":  # EOF: the learner went away
            break
        if not line.strip():
            continue
        rid, op = None, None
        t0 = time.perf_counter()
        try:
            req = json.loads(line)
            if not isinstance(req, dict):
                raise ProtocolError("?", "request", f"must be a JSON object, got {type(req).__name__}")
            rid = req.get("id")
            op = req.get("op")
            if not isinstance(rid, (int, str)) or isinstance(rid, bool):
                raise ProtocolError(str(op), "id", f"must be an integer or string, got {rid!r}")
            result = server.handle(req)
            if isinstance(result, dict) and op != "shutdown":
                result.setdefault("seconds", time.perf_counter() - t0)
            if rank == 0:
                respond(out, rid, True, result)
        except json.JSONDecodeError as e:
            if rank == 0:
                respond(out, None, False, {"type": "protocol", "op": None, "field": "request",
                                           "message": f"request is not JSON ({e.msg} at column {e.colno})"})
        except Exception as e:  # noqa: BLE001 - every failure becomes an error response
            if rank == 0:
                respond(out, rid, False, error_payload(op, e))
        if op == "shutdown":
            break
    if world > 1:
        dist.barrier()
        dist.destroy_process_group()
        # Interpreter teardown can hang in the process group's native threads (seen with gloo): the
        # work is done and flushed, so leave at once.
        out.flush()
        sys.stderr.flush()
        os._exit(0)


if __name__ == "__main__":
    main()
