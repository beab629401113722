"""The model family, in one table: the architectures, the MiT encoders B0–B5 they are built on, and the MRCFA
models the authors released.

The config validates against this table, `MiT` is built from it, the checkpoint loader names a file's encoder
by it and the CLI offers its names. No torch: the CLI's `--help` and Snakemake's parse step read it.
"""

from __future__ import annotations

from dataclasses import dataclass

# single-frame SegFormer, MRCFA (STM + SAR/MAA affinity decoder), and the Feature-Pyramid baseline that merges
# the reference frames' features instead
ARCHS = ("segformer", "mrcfa", "feature_pyramid")

# The paper's reference frames (T = 4), which every released model was trained with.
REF_OFFSETS = (-9, -6, -3)


@dataclass(frozen=True)
class MiTVariant:
    """One MiT encoder, per stage: widths C_i, blocks L_i, heads N_i, spatial-reduction ratios R_i of the
    efficient self-attention and expansion ratios E_i of the Mix-FFN (SegFormer's MiT settings)."""

    widths: tuple[int, int, int, int]
    depths: tuple[int, int, int, int]
    heads: tuple[int, int, int, int] = (1, 2, 5, 8)
    sr_ratios: tuple[int, int, int, int] = (8, 4, 2, 1)
    mlp_ratios: tuple[float, float, float, float] = (4.0, 4.0, 4.0, 4.0)


_WIDE = (64, 128, 320, 512)
MIT = {
    "b0": MiTVariant((32, 64, 160, 256), (2, 2, 2, 2)),
    "b1": MiTVariant(_WIDE, (2, 2, 2, 2)),
    "b2": MiTVariant(_WIDE, (3, 4, 6, 3)),
    "b3": MiTVariant(_WIDE, (3, 4, 18, 3)),
    "b4": MiTVariant(_WIDE, (3, 8, 27, 3)),
    "b5": MiTVariant(_WIDE, (3, 6, 40, 3)),
}
BACKBONES = tuple(MIT)


@dataclass(frozen=True)
class ReleasedMRCFA:
    """An MRCFA model as the authors trained their released VSPW checkpoint: STM's p, the reference frames
    and the number of scales L (their configs)."""

    keep_ratio: float = 0.5
    ref_offsets: tuple[int, ...] = REF_OFFSETS
    num_scales: int = 3

    def model_fields(self) -> dict[str, object]:
        """As `ModelConfig` fields."""
        return {"keep_ratio": self.keep_ratio, "ref_offsets": self.ref_offsets, "num_scales": self.num_scales}


# The released checkpoints (GuoleiSun/VSS-MRCFA), by backbone; B0 keeps more tokens.
RELEASED_MRCFA = {
    "b0": ReleasedMRCFA(keep_ratio=0.8),
    "b1": ReleasedMRCFA(),
    "b2": ReleasedMRCFA(),
    "b5": ReleasedMRCFA(),
}
