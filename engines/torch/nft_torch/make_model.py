"""A small Hugging Face causal LM made here, without any hub.

  python -m nft_torch.make_model --out DIR --problems FILE [--corpus FILE ...] [--seed N]
      [--target 0.3] [--max-steps 4000] [--eval-every 50] [--batch 128] [--lr 3e-3]

1. A byte-level BPE tokenizer trained with the `tokenizers` library on the task's own text (and any
   --corpus files): digits are split one by one, as Qwen2's tokenizer does, so numbers are read digit
   by digit; bytes cover any text, so nothing is ever unknown.
2. A Qwen2-architecture causal LM of about three million parameters, built from a config.
3. Supervised pretraining with the project's trainer (nft_torch.trainer): RFT on responses that are
   all correct, against old log-probs of 0, is exactly the negative log-likelihood of the answers
   (the ratio is then π itself, and −log π is the token's loss). It stops at the first evaluation whose held-out exact-match accuracy reaches --target,
   so that reinforcement learning has something left to learn.

--problems is JSON: {"train": [{"prompt": "12+7=", "answer": "19"}, …], "heldOut": [… the same]}.
DIR gets what `save_pretrained` writes for the model, the tokenizer and the generation config (vLLM
and transformers load it as it is) and nft-base.json: how it was made and how good it is. The last
line printed is that summary as JSON.
"""

import argparse
import json
import os
import random
import tempfile
import time

import torch

ARCH = {
    "model_type": "qwen2",
    "hidden_size": 256,
    "intermediate_size": 688,
    "num_hidden_layers": 4,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "max_position_embeddings": 512,
    # Untied: vLLM's CPU backend (0.32) reloads a tied model's embeddings but keeps the output layer it
    # built at start-up, so every policy version after the first would be served with a stale head (the
    # weight-sync probe measured |Δ log-prob| ≈ 0.1 after one step; untied, 6e-6).
    "tie_word_embeddings": False,
    "rope_theta": 10000.0,
}
VOCAB_SIZE = 512
SPECIAL = {"pad": "<|pad|>", "bos": "<|bos|>", "eos": "<|endoftext|>"}
MAX_NEW_TOKENS = 8


def build_tokenizer(texts, vocab_size=VOCAB_SIZE):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Digits(individual_digits=True), pre_tokenizers.ByteLevel(add_prefix_space=False)]
    )
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[SPECIAL["pad"], SPECIAL["bos"], SPECIAL["eos"]],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        pad_token=SPECIAL["pad"],
        bos_token=SPECIAL["bos"],
        eos_token=SPECIAL["eos"],
        model_max_length=ARCH["max_position_embeddings"],
    )


def build_model(tokenizer, seed):
    import transformers

    torch.manual_seed(seed)
    cfg = dict(ARCH)
    model_type = cfg.pop("model_type")
    config = transformers.AutoConfig.for_model(
        model_type,
        vocab_size=len(tokenizer),
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        **cfg,
    )
    return transformers.AutoModelForCausalLM.from_config(config, dtype=torch.float32)


def greedy_accuracy(model, tokenizer, problems):
    """Exact match of the greedy answer (up to the end token), as the verifier reads plain digits."""
    model.eval()
    right = 0
    with torch.no_grad():
        for i in range(0, len(problems), 256):
            chunk = problems[i : i + 256]
            enc = [tokenizer(p["prompt"]).input_ids for p in chunk]
            width = max(len(e) for e in enc)
            ids = torch.tensor([[tokenizer.pad_token_id] * (width - len(e)) + e for e in enc])
            mask = torch.tensor([[0] * (width - len(e)) + [1] * len(e) for e in enc])
            out = model.generate(
                input_ids=ids,
                attention_mask=mask,
                max_new_tokens=MAX_NEW_TOKENS,
                do_sample=False,
                eos_token_id=tokenizer.eos_token_id,
                pad_token_id=tokenizer.pad_token_id,
            )
            for p, row in zip(chunk, out[:, width:].tolist()):
                text = tokenizer.decode(row, skip_special_tokens=True).strip()
                right += text == p["answer"]
    model.train()
    return right / max(1, len(problems))


def pretrain(trainer, tokenizer, problems, args, log):
    from .batch import Batch

    rng = random.Random(args.seed)
    train = problems["train"]
    held_out = problems["heldOut"]
    eos = tokenizer.eos_token_id
    history = []
    accuracy = greedy_accuracy(trainer.base, tokenizer, held_out)
    history.append({"step": 0, "heldOutAccuracy": accuracy})
    previous = (0, accuracy, _snapshot(trainer.base))
    step = 0
    while step < args.max_steps and accuracy < args.target:
        rows = [train[rng.randrange(len(train))] for _ in range(args.batch)]
        responses = [tokenizer(r["answer"]).input_ids + [eos] for r in rows]
        batch = Batch(
            prompts=[tokenizer(r["prompt"]).input_ids for r in rows],
            responses=responses,
            old_logprobs=[[0.0] * len(r) for r in responses],
            correct=[1] * len(rows),
            group_id=list(range(len(rows))),
        )
        result = trainer.step(batch)
        step += 1
        if step % args.eval_every == 0:
            accuracy = greedy_accuracy(trainer.base, tokenizer, held_out)
            history.append({"step": step, "heldOutAccuracy": accuracy})
            log(f"make-model: step {step}, held-out accuracy {accuracy:.3f}")
            # Overshot the band: the evaluation before, if it was closer to the target, wins.
            if accuracy > args.max_accuracy and args.target - previous[1] < accuracy - args.target:
                step, accuracy, weights = previous
                trainer.base.load_state_dict(weights)
                log(f"make-model: {history[-1]['heldOutAccuracy']:.3f} overshoots {args.max_accuracy}: back to step {step}")
                break
            previous = (step, accuracy, _snapshot(trainer.base))
        del result
    return step, accuracy, history


def _snapshot(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m nft_torch.make_model", description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--problems", required=True)
    ap.add_argument("--corpus", action="append", default=[])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--target", type=float, default=0.3)
    ap.add_argument("--max-accuracy", type=float, default=0.5)
    ap.add_argument("--max-steps", type=int, default=4000)
    ap.add_argument("--eval-every", type=int, default=50)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=3e-3)
    args = ap.parse_args(argv)
    log = lambda line: print(line, flush=True)  # noqa: E731
    started = time.perf_counter()
    torch.manual_seed(args.seed)
    with open(args.problems, encoding="utf-8") as f:
        problems = json.load(f)
    texts = [p["prompt"] + p["answer"] for p in problems["train"]]
    for path in args.corpus:
        with open(path, encoding="utf-8") as f:
            texts.extend(line for line in f.read().splitlines() if line.strip())
    tokenizer = build_tokenizer(texts)
    model = build_model(tokenizer, args.seed)
    parameters = sum(p.numel() for p in model.parameters())
    log(f"make-model: vocabulary {len(tokenizer)}, {parameters} parameters")

    from .trainer import Trainer

    with tempfile.TemporaryDirectory() as init_dir:
        model.save_pretrained(init_dir)
        tokenizer.save_pretrained(init_dir)
        trainer = Trainer(
            {"kind": "hf", "path": init_dir},
            {"name": "rft", "negWeight": 0.0, "normalize": 0},
            {"learningRate": args.lr, "gradClip": 1.0},
            old_logprobs="behaviour",
            seed=args.seed,
            device="cpu",
        )
        steps, accuracy, history = pretrain(trainer, tokenizer, problems, args, log)
        os.makedirs(args.out, exist_ok=True)
        trainer.export(0, args.out)
    import transformers

    transformers.GenerationConfig(
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        max_new_tokens=MAX_NEW_TOKENS,
    ).save_pretrained(args.out)
    summary = {
        "out": args.out,
        "architecture": ARCH,
        "vocabSize": len(tokenizer),
        "parameters": parameters,
        "seed": args.seed,
        "steps": steps,
        "heldOutAccuracy": accuracy,
        "heldOutSize": len(problems["heldOut"]),
        "target": args.target,
        "seconds": round(time.perf_counter() - started, 2),
        "history": history,
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__},
    }
    with open(os.path.join(args.out, "nft-base.json"), "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=2)
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
