/** Ports, paths and timings the run's pods share, and the run configuration refers to. */

export const METRICS_PORT = 9464;
/** Time a pod has to finish or hand back its work after SIGTERM (scale-in, rollout, deletion). */
export const DRAIN_SECONDS = 120;
export const CONFIG_PATH = '/etc/nft/run.json';
/** Where a rollout pod's inference server listens, for the generator beside it. */
export const INFERENCE_PORT = 8000;
/** Shared by a rollout pod's two containers: weights the generator fetched for the server to load. */
export const WEIGHTS_PATH = '/weights';
/** checkpointing.pvc is mounted here in the learner and (read-only) in rollout pods. */
export const CHECKPOINT_PATH = '/checkpoints';
