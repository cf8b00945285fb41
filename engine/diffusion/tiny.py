"""Tiny, randomly initialised diffusers pipelines, built locally in well under a second.

They draw noise, not pictures, but they run the real code path of the diffusers backend
(loading from a folder, sizes, seeds, schedulers, progress) with no weights to download.
The tests and ``bench/diffusers_tiny.py`` use them; ``manage.py engine_tiny_pipelines``
writes them to a folder to try the backend's wiring by hand.

Imports torch: only for the tests, the bench and that command.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import torch

KINDS = ("sd", "sdxl", "flux")

# Every text is tokenized byte by byte: the 256 byte characters of byte-level BPE, each
# also with CLIP's end-of-word marker, and the two special tokens.
_SPECIAL = ("<|startoftext|>", "<|endoftext|>")


def _byte_characters() -> list[str]:
    """GPT-2's byte-to-unicode table (what CLIP's tokenizer maps bytes to)."""
    printable = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("¡"), ord("¬") + 1))
        + list(range(ord("®"), ord("ÿ") + 1))
    )
    codes = printable[:]
    extra = 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            codes.append(256 + extra)
            extra += 1
    return [chr(code) for code in codes]


def write_tokenizer_files(folder: Path) -> int:
    """A CLIP tokenizer's vocab.json and merges.txt, written by hand; returns the vocab size."""
    folder.mkdir(parents=True, exist_ok=True)
    characters = _byte_characters()
    tokens = [*_SPECIAL, *characters, *(c + "</w>" for c in characters)]
    vocab = {token: index for index, token in enumerate(tokens)}
    (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\n", encoding="utf-8")
    return len(vocab)


def clip_tokenizer(max_length: int = 77) -> Any:
    """A CLIPTokenizer from hand-written files.

    transformers 5 silently ignores ``CLIPTokenizer(vocab_file=...)`` (a 3-token tokenizer):
    ``from_pretrained`` on the folder reads them, and the length is checked.
    """
    from transformers import CLIPTokenizer

    with tempfile.TemporaryDirectory(prefix="tiny-tokenizer-") as folder:
        size = write_tokenizer_files(Path(folder))
        tokenizer = CLIPTokenizer.from_pretrained(folder, model_max_length=max_length)
    if len(tokenizer) != size:
        raise RuntimeError(f"The tiny tokenizer has {len(tokenizer)} tokens, not {size}.")
    return tokenizer


def _clip_text_encoder(vocab_size: int, with_projection: bool = False, hidden: int = 32) -> Any:
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    config = CLIPTextConfig(
        bos_token_id=0,
        eos_token_id=1,
        pad_token_id=1,
        hidden_size=hidden,
        intermediate_size=37,
        num_attention_heads=4,
        num_hidden_layers=2,
        vocab_size=vocab_size,
        projection_dim=hidden,
        max_position_embeddings=77,
    )
    return CLIPTextModelWithProjection(config) if with_projection else CLIPTextModel(config)


def _vae(**extra: Any) -> Any:
    """Four blocks, as real VAEs have: the latent is 1/8 of the image, like the real ones."""
    from diffusers import AutoencoderKL

    return AutoencoderKL(
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        block_out_channels=(8, 8, 8, 8),
        layers_per_block=1,
        latent_channels=4,
        norm_num_groups=4,
        sample_size=64,
        **extra,
    )


def build_sd(folder: Path) -> Any:
    """A tiny Stable Diffusion 1.x pipeline, saved to ``folder``."""
    from diffusers import PNDMScheduler, StableDiffusionPipeline, UNet2DConditionModel

    torch.manual_seed(0)
    tokenizer = clip_tokenizer()
    pipe = StableDiffusionPipeline(
        unet=UNet2DConditionModel(
            block_out_channels=(8, 16),
            layers_per_block=1,
            sample_size=8,
            in_channels=4,
            out_channels=4,
            down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
            up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
            cross_attention_dim=32,
            attention_head_dim=2,
            norm_num_groups=4,
        ),
        vae=_vae(),
        text_encoder=_clip_text_encoder(len(tokenizer)),
        tokenizer=tokenizer,
        scheduler=PNDMScheduler(skip_prk_steps=True, steps_offset=1),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.save_pretrained(str(folder))
    return pipe


def build_sdxl(folder: Path) -> Any:
    """A tiny SDXL pipeline (two text encoders, the added conditioning), saved to ``folder``."""
    from diffusers import EulerDiscreteScheduler, StableDiffusionXLPipeline, UNet2DConditionModel

    torch.manual_seed(0)
    tokenizer = clip_tokenizer()
    pipe = StableDiffusionXLPipeline(
        unet=UNet2DConditionModel(
            block_out_channels=(8, 16),
            layers_per_block=1,
            sample_size=8,
            in_channels=4,
            out_channels=4,
            down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
            up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
            attention_head_dim=(2, 4),
            use_linear_projection=True,
            addition_embed_type="text_time",
            addition_time_embed_dim=8,
            transformer_layers_per_block=(1, 1),
            projection_class_embeddings_input_dim=80,  # 6 * 8 + 32
            cross_attention_dim=64,
            norm_num_groups=4,
        ),
        vae=_vae(),
        text_encoder=_clip_text_encoder(len(tokenizer)),
        text_encoder_2=_clip_text_encoder(len(tokenizer), with_projection=True),
        tokenizer=tokenizer,
        tokenizer_2=tokenizer,
        scheduler=EulerDiscreteScheduler(
            beta_start=0.00085,
            beta_end=0.012,
            beta_schedule="scaled_linear",
            timestep_spacing="leading",
            steps_offset=1,
        ),
    )
    pipe.save_pretrained(str(folder))
    return pipe


def build_flux(folder: Path) -> Any:
    """A tiny FLUX pipeline, saved to ``folder``.

    Its second text encoder is a tiny T5 fed by the same byte-level CLIP tokenizer: FLUX
    only needs token ids from it, and a hand-written T5 vocabulary would add nothing.
    """
    from diffusers import FlowMatchEulerDiscreteScheduler, FluxPipeline, FluxTransformer2DModel
    from transformers import T5Config, T5EncoderModel

    torch.manual_seed(0)
    tokenizer = clip_tokenizer()
    t5 = T5EncoderModel(
        T5Config(
            vocab_size=len(tokenizer),
            d_model=32,
            d_kv=8,
            d_ff=37,
            num_layers=2,
            num_heads=4,
            pad_token_id=1,
            eos_token_id=1,
            decoder_start_token_id=0,
        )
    )
    pipe = FluxPipeline(
        transformer=FluxTransformer2DModel(
            patch_size=1,
            in_channels=16,  # 4 latent channels, packed 2 x 2
            num_layers=1,
            num_single_layers=1,
            attention_head_dim=16,
            num_attention_heads=2,
            joint_attention_dim=32,
            pooled_projection_dim=32,
            axes_dims_rope=(4, 6, 6),
        ),
        vae=_vae(shift_factor=0.0, scaling_factor=1.0),
        text_encoder=_clip_text_encoder(len(tokenizer)),
        text_encoder_2=t5,
        tokenizer=tokenizer,
        tokenizer_2=tokenizer,
        scheduler=FlowMatchEulerDiscreteScheduler(),
    )
    pipe.save_pretrained(str(folder))
    return pipe


BUILDERS = {"sd": build_sd, "sdxl": build_sdxl, "flux": build_flux}


def build(kind: str, folder: Path | str) -> Any:
    """Build the tiny pipeline of ``kind`` (sd, sdxl or flux) into ``folder``."""
    return BUILDERS[kind](Path(folder))
