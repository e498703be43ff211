"""Worker for tests/test_training_distributed.py, launched as
`torchrun --standalone --nproc_per_node=2 tests/training_dist_worker.py OUT_DIR CONFIG_JSON`.

Part A: one DDP step of `TrainStep` on a fixed global batch with a tiny stand-in model; rank 0 saves the loss and
parameter gradients. Part B: `fit` on the config in CONFIG_JSON (a short smoke run), writing to OUT_DIR/run.
"""

import json
import os
import sys
from pathlib import Path

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

sys.path.insert(0, str(Path(__file__).resolve().parent))
from training_standins import GLOBAL_BATCH, TinyModel, global_batch, make_loss  # noqa: E402

from vttwins.companion.training.loop import TrainStep  # noqa: E402


def part_a(out: Path) -> None:
    rank, world = dist.get_rank(), dist.get_world_size()
    b = GLOBAL_BATCH // world
    results = {}
    for name in ("s2dtw", "mil_nce", "clip_nce"):
        torch.manual_seed(0)
        step = TrainStep(TinyModel(), make_loss(name), normalize=name != "mil_nce", sequence=name == "s2dtw")
        ddp = DistributedDataParallel(step)
        video, tokens = global_batch()
        loss = ddp(video[rank * b : (rank + 1) * b], tokens[rank * b : (rank + 1) * b])
        loss.backward()
        results[name] = {"loss": loss.detach(), "grads": {k: p.grad.clone() for k, p in step.named_parameters()}}
    if rank == 0:
        torch.save(results, out / "part_a.pt")


def main() -> None:
    out, config_json = Path(sys.argv[1]), sys.argv[2]
    dist.init_process_group("gloo")
    torch.set_num_threads(1)
    part_a(out)
    if config_json != "-":
        from vttwins.companion.config import config_from_dict
        from vttwins.companion.training import fit

        fit(config_from_dict(json.loads(Path(config_json).read_text())))
    dist.destroy_process_group()


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    main()
