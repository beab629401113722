"""Peak tensor memory on any device, counted exactly from the tensors themselves.

On CUDA the allocator keeps a peak (`torch.cuda.max_memory_allocated`); on CPU there is none, and a
process's peak RSS moves by megabytes between identical runs (allocator caching, import order), far more
than the activations of a small model. `PeakTensorMemory` watches every op's outputs while it is active and
keeps the peak of the bytes of the storages still alive: the same quantity as the CUDA peak (less the
workspaces inside an op), identical from run to run and from one machine to the next.
"""

from __future__ import annotations

from typing import Any

import torch
from torch.multiprocessing.reductions import StorageWeakRef
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten


class PeakTensorMemory(TorchDispatchMode):
    """`with PeakTensorMemory() as m: ...` then `m.peak_bytes`: the most bytes held at once by storages
    created inside the block (tensors made before it — e.g. weights loaded outside — are not counted)."""

    def __init__(self) -> None:
        super().__init__()
        self._live: dict[int, tuple[StorageWeakRef, int]] = {}
        self.current_bytes = 0
        self.peak_bytes = 0

    def _release_dead(self) -> None:
        for key in [k for k, (ref, _) in self._live.items() if ref.expired()]:
            self.current_bytes -= self._live.pop(key)[1]

    def __torch_dispatch__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        out = func(*args, **(kwargs or {}))
        for t in tree_flatten(out)[0]:
            if isinstance(t, torch.Tensor) and not t.is_meta:
                storage = t.untyped_storage()
                ref = StorageWeakRef(storage)
                if ref.cdata not in self._live:
                    self._live[ref.cdata] = (ref, storage.nbytes())
                    self.current_bytes += storage.nbytes()
        # current_bytes still counts storages freed since the last sweep, so it can only overstate: sweeping
        # (a pass over every live storage) is needed only when it would set a new peak.
        if self.current_bytes > self.peak_bytes:
            self._release_dead()
            self.peak_bytes = max(self.peak_bytes, self.current_bytes)
        return out

    def __exit__(self, *exc: Any) -> None:
        super().__exit__(*exc)
        self._release_dead()

    @property
    def peak_mb(self) -> float:
        return self.peak_bytes / 2**20
