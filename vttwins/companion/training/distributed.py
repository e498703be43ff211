"""torch.distributed helpers: process-group setup from torchrun's environment and an all-gather with a backward.

    torchrun --nproc_per_node=2 -m vttwins train --config configs/smoke.yaml

Nothing here assumes a GPU count: the world size comes from the environment (`WORLD_SIZE`, `RANK`,
`LOCAL_RANK`, set by torchrun on every node); without it everything runs as a single process.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DistInfo:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    initialized_here: bool = False

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def setup(device: torch.device) -> DistInfo:
    """Join the process group torchrun describes (gloo on CPU, NCCL on CUDA); a no-op for one process."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank, local = int(os.environ.get("RANK", "0")), int(os.environ.get("LOCAL_RANK", "0"))
    if dist.is_available() and dist.is_initialized():
        return DistInfo(dist.get_rank(), dist.get_world_size(), local, False)
    if world <= 1:
        return DistInfo()
    backend = "nccl" if device.type == "cuda" else "gloo"
    dist.init_process_group(backend=backend, rank=rank, world_size=world)
    log.info("joined process group: rank %d of %d (%s)", rank, world, backend)
    return DistInfo(rank, world, local, True)


def teardown(info: DistInfo) -> None:
    if info.initialized_here and dist.is_initialized():
        dist.destroy_process_group()


def barrier(info: DistInfo) -> None:
    if info.distributed:
        dist.barrier()


def any_flag(flag: bool, info: DistInfo, device: torch.device) -> bool:
    """True on every rank when `flag` is true on any rank (so all ranks stop at the same step)."""
    if not info.distributed:
        return flag
    t = torch.tensor([1 if flag else 0], device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item())


def broadcast_object(obj, info: DistInfo):
    if not info.distributed:
        return obj
    holder = [obj]
    dist.broadcast_object_list(holder, src=0)
    return holder[0]


class _AllGather(torch.autograd.Function):
    """Concatenate every rank's tensor along dim 0; backward sums the incoming gradients over ranks and returns
    this rank's slice.

    Every rank computes a loss on the same gathered batch, so each rank's `grad_output` holds d(its loss)/d(all
    embeddings). The all-reduce (sum) gives d(sum of losses)/d(this rank's embeddings); DDP then averages the
    parameter gradients over the world size, which yields exactly the gradient of the mean loss -- identical to
    one process on the whole global batch. (The released code returned an empty gradient here.)
    """

    @staticmethod
    def forward(ctx, tensor: torch.Tensor) -> torch.Tensor:
        world, rank = dist.get_world_size(), dist.get_rank()
        sizes = [torch.zeros(1, dtype=torch.long, device=tensor.device) for _ in range(world)]
        dist.all_gather(sizes, torch.tensor([tensor.shape[0]], device=tensor.device))
        sizes = [int(s.item()) for s in sizes]
        if len(set(sizes)) != 1:
            raise ValueError(f"all_gather_with_grad needs equal batch sizes on every rank, got {sizes}")
        parts = [torch.empty_like(tensor) for _ in range(world)]
        dist.all_gather(parts, tensor.contiguous())
        ctx.rank, ctx.size = rank, sizes[rank]
        return torch.cat(parts, dim=0)

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor) -> torch.Tensor:
        grad = grad_output.contiguous().clone()
        dist.all_reduce(grad, op=dist.ReduceOp.SUM)
        return grad[ctx.rank * ctx.size : (ctx.rank + 1) * ctx.size]


def all_gather_with_grad(tensor: torch.Tensor) -> torch.Tensor:
    """`(b, ...)` on each of R ranks -> `(R * b, ...)` in rank order, differentiable (see `_AllGather`).

    Without an initialised process group (or with one process) the tensor is returned unchanged.
    """
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return tensor
    return _AllGather.apply(tensor)


def check_sync_batchnorm(enabled: bool, info: DistInfo, device: torch.device) -> bool:
    """Whether BatchNorm must be synchronised: `enabled` and several processes. ValueError when that is asked on a
    device other than CUDA, because torch's SyncBatchNorm runs on CUDA (and XPU) only; leave it off there and each
    process normalises over its own share of the batch."""
    if not enabled or not info.distributed:
        return False
    if device.type != "cuda":
        raise ValueError(
            f"train.sync_batchnorm=true needs CUDA (torch's SyncBatchNorm does not run on "
            f"{device.type}); set train.sync_batchnorm=false for a {info.world_size}-process "
            f"{device.type} run"
        )
    return True


def sync_batchnorm(module: torch.nn.Module, enabled: bool, info: DistInfo, device: torch.device) -> torch.nn.Module:
    """`module` with every BatchNorm converted to SyncBatchNorm when `check_sync_batchnorm` says so (one process:
    returned unchanged, its statistics already cover the whole batch). The state dict keys do not change."""
    if not check_sync_batchnorm(enabled, info, device):
        return module
    return torch.nn.SyncBatchNorm.convert_sync_batchnorm(module)
