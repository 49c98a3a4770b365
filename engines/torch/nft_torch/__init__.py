"""The PyTorch trainer of nft-train: the objectives, a causal LM trainer and the stdio server the learner drives."""

__all__ = ["objective", "safetensors_io", "tiny_model", "model", "trainer", "server"]
