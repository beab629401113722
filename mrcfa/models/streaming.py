"""Streaming inference over a video: the paper's FPS protocol.

Each new frame runs the backbone, the decoder and its own reference share (keys, values) exactly once;
those are cached for the later targets that reference it (at most max|offset| frames back). A target then
costs only the cross-frame part. The first frames of a video follow the test-time policy of
`mrcfa.data.clips.test_reference_positions` (single-frame prediction where no reference exists yet).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from mrcfa.data.clips import test_reference_positions
from mrcfa.models.segmenter import Segmenter
from mrcfa.models.temporal_head import ReferenceState


class StreamingPredictor:
    def __init__(self, model: Segmenter) -> None:
        self.model = model
        self.offsets: tuple[int, ...] = tuple(model.cfg.ref_offsets or ())
        self.horizon = max((-o for o in self.offsets), default=0)
        self.reset()

    def reset(self) -> None:
        """Start a new video."""
        self.index = 0
        self.cache: dict[int, ReferenceState] = {}

    @torch.no_grad()
    def step(self, frame: torch.Tensor, refs: Sequence[int] | None = None) -> torch.Tensor:
        """frame: 1×3×H×W. Returns the target logits 1×K×H/4×W/4. `refs` (absolute frame indices)
        overrides the test-time policy."""
        model, i = self.model, self.index
        stages, dec = model.encode(frame)
        logits = dec.logits
        if model.temporal is not None:
            if refs is None:
                refs = test_reference_positions(i, self.offsets)
            if refs:
                missing = [r for r in refs if r not in self.cache]
                if missing:
                    raise KeyError(f"frames {missing} are not cached (frame {i}; cached: {sorted(self.cache)})")
                states = ReferenceState.stack([self.cache[r] for r in refs])
                logits, _ = model.temporal.attend(stages, dec.fused, states)
            self.cache[i] = model.reference_state(stages, dec)
            for old in [k for k in self.cache if k <= i - self.horizon]:
                del self.cache[old]
        self.index += 1
        return logits
