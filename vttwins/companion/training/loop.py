"""`fit(config)`: the pretraining loop -- one process or many under torchrun, checkpointed and resumable.

    from vttwins.companion.config import load_config
    from vttwins.companion.training import fit
    run_dir = fit(load_config("smoke", ["output_dir=runs/smoke"]))
    torchrun --nproc_per_node=2 -m vttwins train --config configs/smoke.yaml output_dir=runs/ddp

Each step: every rank embeds its slice of the global batch, the embeddings are all-gathered (with a backward,
see `distributed._AllGather`), every rank computes the loss over the whole global batch, DDP averages the
gradients, Adam steps, the per-step schedule advances. Rank 0 alone writes `config.json`, `provenance.json`,
`metrics.jsonl`, `checkpoints/` and `model.pt`.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import signal
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any, Callable, Iterable

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from vttwins.companion.config import Config, SEQUENCE_LOSSES, config_to_dict, load_config
from vttwins.models import build_model
from vttwins.models.checkpoints import save_checkpoint
from vttwins.companion.training import builders, distributed as dist_utils, runtime as rt, state as st
from vttwins.companion.training.distributed import DistInfo, all_gather_with_grad

log = logging.getLogger(__name__)


class TrainingInterrupted(RuntimeError):
    """SIGTERM/SIGINT arrived; a checkpoint of the last finished step was written before raising."""

    def __init__(self, signum: int, step: int, checkpoint: Path | None):
        super().__init__(f"training interrupted by signal {signum} after step {step}; checkpoint: {checkpoint}")
        self.signum, self.step, self.checkpoint = signum, step, checkpoint


class TrainStep(nn.Module):
    """Model + loss as one module (so DDP also syncs learnable γ/τ): batch -> scalar loss on the global batch."""

    def __init__(
        self, model: nn.Module, loss: nn.Module, normalize: bool, sequence: bool, amp_dtype: torch.dtype | None = None
    ):
        super().__init__()
        self.model, self.loss = model, loss
        self.normalize, self.sequence, self.amp_dtype = normalize, sequence, amp_dtype

    def embed(self, video: torch.Tensor, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """video (b, n, ...) and tokens (b, n, L) -> local embeddings (b, n, E) each, float32."""
        b, n = tokens.shape[:2]
        autocast = (
            torch.autocast(video.device.type, dtype=self.amp_dtype) if self.amp_dtype is not None else nullcontext()
        )
        with autocast:
            v = self.model.encode_video(video.flatten(0, 1))
            t = self.model.encode_text(tokens.flatten(0, 1))
        v, t = v.float().view(b, n, -1), t.float().view(b, n, -1)
        if self.normalize:
            v, t = F.normalize(v, dim=-1), F.normalize(t, dim=-1)
        return v, t

    def forward(self, video: torch.Tensor, tokens: torch.Tensor, generator: torch.Generator | None = None):
        v, t = self.embed(video, tokens)
        both = all_gather_with_grad(torch.cat([v, t], dim=-1))  # one collective for both modalities
        v, t = both.split([v.shape[-1], t.shape[-1]], dim=-1)
        return self.loss(v, t, generator=generator) if self.sequence else self.loss(v, t)


# ------------------------------------------------------------------------------------------- helpers
def _on_main(info: DistInfo, fn: Callable[[], Any]) -> Any:
    """Run `fn` on rank 0 and share its result (or its exception) with every rank, so a bad config stops all."""
    result, error = None, None
    if info.is_main:
        try:
            result = fn()
        except Exception as exc:  # re-raised on every rank below
            error = exc
    result, error = dist_utils.broadcast_object((result, error), info)
    if error is not None:
        raise error
    return result


def _resolved(config: Config, model) -> Config:
    return dataclasses.replace(config, model=dataclasses.replace(model.config))


def _total_steps(config: Config, batches_per_epoch: int) -> int:
    return config.train.steps if config.train.steps is not None else config.train.epochs * batches_per_epoch


# ------------------------------------------------------------------------------------------- the run
class _Run:
    """State of one training run on one rank; `fit` builds it, then calls `train()`."""

    def __init__(self, config: Config, info: DistInfo, device: torch.device, force_resume: bool = False):
        self.info, self.device = info, device
        self.run_dir = Path(config.train.output_dir)
        self.amp_dtype = builders.resolve_amp(config, device)
        builders.build_loss(config)  # unknown loss / bad options fail before any data is generated
        dist_utils.check_sync_batchnorm(config.train.sync_batchnorm, info, device)  # and a CPU sync_batchnorm
        found: dict[str, Any] = {}  # rank 0 keeps the state it validated (no second load)

        def check() -> Path | None:
            path, found["state"] = rt.check_run_dir(self.run_dir, config.train.resume)
            return path

        resume_from = _on_main(info, check)
        self.paths = _on_main(info, lambda: builders.data_paths(config, generate=True))
        _on_main(info, lambda: builders.check_data(config, self.paths))  # `data check`'s rows; refuses broken data
        if not info.is_main:
            self.paths = builders.data_paths(config, generate=False)
        self.tokenizer = builders.build_tokenizer(self.paths)
        st.seed_everything(config.train.seed)  # the same initial weights on every rank and every run
        model = build_model(config.model, vocab=self.tokenizer.words)
        self.config = _resolved(config, model)
        self.resume_state, self.resume_changes, self.forced = None, {}, False
        if resume_from is not None:
            self.resume_state = found.get("state") or st.load_state(resume_from, st.RESUME_KEYS)
            rt.check_same_architecture(self.resume_state["model_config"], model.config, resume_from)
            saved = self.resume_state.get("config") or {}
            self.resume_changes = rt.check_resume_config(self.run_dir, saved, config_to_dict(self.config), force_resume)
            self.forced = force_resume and bool(self.resume_changes)
        self.dataset = builders.build_dataset(self.config, self.paths, self.tokenizer)
        t = self.config.train
        self.sampler = st.GlobalBatchSampler(len(self.dataset), t.batch_size, info.rank, info.world_size, t.seed)
        self.total = _total_steps(self.config, self.sampler.batches_per_epoch)
        self._build_modules(model)

    def _build_modules(self, model) -> None:
        c = self.config
        loss = builders.build_loss(c)
        step = TrainStep(model, loss, bool(c.loss.normalize), c.loss.name in SEQUENCE_LOSSES, self.amp_dtype)
        self.step_module = dist_utils.sync_batchnorm(step, c.train.sync_batchnorm, self.info, self.device)
        self.step_module = self.step_module.to(self.device)
        self.model, self.loss = model, self.step_module.loss
        self.ddp = self.step_module
        if self.info.distributed:
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.ddp = DistributedDataParallel(self.step_module, device_ids=ids)
        self.optimizer = builders.build_optimizer(self.step_module, c)
        self.scheduler = st.make_scheduler(self.optimizer, self.total, c.optim)
        use_scaler = self.amp_dtype == torch.float16
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=use_scaler)
        self.start, self.skipped_local, self.skipped_before, self._skipped_total = 0, 0, 0, 0
        if self.resume_state is not None:
            self._restore(self.resume_state)

    # ---------------------------------------------------------------------------------- checkpoints
    def _final_state(self, step: int) -> dict[str, Any]:
        return {
            "model": self.model.state_dict(),
            "model_config": dataclasses.asdict(self.model.config),
            "vocab": list(self.tokenizer.words),
            "step": step,
            "config": config_to_dict(self.config),
            "loss": self.loss.state_dict(),
        }

    def _resume_state(self, step: int) -> dict[str, Any]:
        epoch, batch = divmod(step, self.sampler.batches_per_epoch)
        return {
            **self._final_state(step),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "scaler": self.scaler.state_dict(),
            "rng": st.rng_state(),
            "data_position": {"epoch": epoch, "batch": batch},
            "world_size": self.info.world_size,
            "skipped": self._skipped_total,
        }

    def _restore(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        self.loss.load_state_dict(state["loss"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.scaler.load_state_dict(state["scaler"])
        st.set_rng_state(state["rng"])
        self.start = int(state["step"])
        self.skipped_before = int(state.get("skipped", 0))
        if self.start > self.total:
            raise ValueError(f"checkpoint is at step {self.start}, beyond train.steps={self.total}")
        log.info("resuming from step %d (data position %s)", self.start, state["data_position"])

    def checkpoint(self, step: int) -> Path | None:
        path = None
        if self.info.is_main:
            path = st.save_rotating(self._resume_state(step), self.run_dir, step, self.config.train.keep_checkpoints)
        dist_utils.barrier(self.info)
        return path

    # ---------------------------------------------------------------------------------- files
    def write_run_files(self) -> None:
        if not self.info.is_main:
            return
        from vttwins.companion.results import atomic_write_text, provenance  # deferred: pandas

        self.run_dir.mkdir(parents=True, exist_ok=True)
        plain = config_to_dict(self.config)
        atomic_write_text(self.run_dir / "config.json", json.dumps(plain, indent=2, sort_keys=True) + "\n")
        record = provenance(
            plain,
            self.config.train.seed,
            world_size=self.info.world_size,
            device=str(self.device),
            start_step=self.start,
        )
        atomic_write_text(
            self.run_dir / "provenance.json", json.dumps(record, indent=2, sort_keys=True, default=str) + "\n"
        )
        rt.truncate_metrics(self.run_dir / "metrics.jsonl", self.start)
        if self.resume_changes:
            rt.record_resume(self.run_dir, self.start, self.resume_changes, self.forced)

    def write_final(self) -> Path:
        path = self.run_dir / "model.pt"
        if self.info.is_main:
            save_checkpoint(path, self._final_state(self.total))
            log.info("saved final model %s", path)
        dist_utils.barrier(self.info)
        return path

    # ---------------------------------------------------------------------------------- loop
    def _batches(self) -> Iterable[dict]:
        """Global-batch slices for this rank from `self.start` on, epoch after epoch (fresh workers per epoch, so
        `dataset.set_epoch` reaches them)."""
        from torch.utils.data import DataLoader
        from vttwins.data import collate_pretrain  # deferred: av, pandas

        per_epoch = self.sampler.batches_per_epoch
        epoch, skip = divmod(self.start, per_epoch)
        collate = getattr(self.dataset, "collate", collate_pretrain)  # a TableDataset returns whole batches
        while True:
            self.sampler.set_epoch(epoch)
            self.sampler.set_start(skip)
            self.dataset.set_epoch(epoch)
            loader = DataLoader(
                self.dataset,
                batch_sampler=self.sampler,
                collate_fn=rt.CountingCollate(self.dataset, collate),
                num_workers=self.config.data.num_workers,
                pin_memory=self.device.type == "cuda",
                # its own generator: creating an iterator must not draw from the global RNG,
                # or a resumed run (new iterator mid-epoch) would diverge (dropout masks)
                generator=torch.Generator().manual_seed(self.config.train.seed + epoch),
            )
            yield from loader
            epoch, skip = epoch + 1, 0

    def _step(self, batch: dict, step: int) -> tuple[float, float]:
        self.skipped_local += int(batch.pop("_skipped_new", 0))
        key = "video" if self.model.mode == "pixel" else "features"
        video = batch[key].to(self.device, non_blocking=True)
        tokens = batch["tokens"].to(self.device, non_blocking=True)
        lr = self.scheduler.get_last_lr()[0]
        loss = self.ddp(video, tokens, st.step_generator(self.config.train.seed, step, self.device))
        if not torch.isfinite(loss):
            raise FloatingPointError(f"loss is {loss.item()} at step {step + 1}")
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        if self.config.optim.grad_clip is not None:
            self.scaler.unscale_(self.optimizer)
            torch.nn.utils.clip_grad_norm_(self.step_module.parameters(), self.config.optim.grad_clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.scheduler.step()
        return float(loss.detach()), lr

    def _skipped(self) -> int:
        """Items skipped (bad files) so far in this run, summed over ranks (collective: call on every rank)."""
        if not self.info.distributed:
            return self.skipped_local
        t = torch.tensor([self.skipped_local], device=self.device)
        torch.distributed.all_reduce(t)
        return int(t.item())

    def train(self, callbacks: Iterable[Callable[[dict], None]] = ()) -> Path:
        self.write_run_files()
        self.ddp.train()
        bar = rt.progress_bar(self.config, self.info, self.start, self.total)
        metrics = (self.run_dir / "metrics.jsonl").open("a") if self.info.is_main else None
        self._window = (time.perf_counter(), 0)
        self._began = time.perf_counter()
        try:
            with rt.StopFlag() as stop:
                batches = iter(self._batches())
                for step in range(self.start, self.total):
                    loss, lr = self._step(next(batches), step)
                    for callback in callbacks:
                        callback({"step": step + 1, "loss": loss, "lr": lr})
                    self._after_step(step + 1, loss, lr, stop, metrics, bar)
        finally:
            if metrics is not None:
                metrics.close()
            if bar is not None:
                bar.close()
        if self.start == self.total and self.info.is_main:
            log.info("run %s is already at step %d of %d", self.run_dir, self.start, self.total)
        self.write_final()
        return self.run_dir

    def _after_step(self, done: int, loss: float, lr: float, stop: rt.StopFlag, metrics, bar) -> None:
        """Log, checkpoint, stop on a signal. Collectives here run on every rank at the same steps."""
        t = self.config.train
        stopping = dist_utils.any_flag(stop.signum is not None, self.info, self.device)
        log_now = done % t.log_every == 0 or done == self.total
        save_now = done % t.checkpoint_every == 0 or done == self.total or stopping
        if log_now or save_now:
            self._skipped_total = self.skipped_before + self._skipped()
        if log_now:
            t0, steps = self._window
            now, steps = time.perf_counter(), steps + 1
            rate = steps / max(now - t0, 1e-9)
            self._window = (now, 0)
            self._log(
                {
                    "step": done,
                    "epoch": (done - 1) // self.sampler.batches_per_epoch,
                    "loss": loss,
                    "lr": lr,
                    "steps_per_s": rate,
                    "clips_per_s": rate * t.batch_size * self.config.data.n_clips,
                    "elapsed_s": now - self._began,
                    "skipped": self._skipped_total,
                },
                metrics,
                bar,
            )
        else:
            self._window = (self._window[0], self._window[1] + 1)
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{loss:.4f}")
        path = self.checkpoint(done) if save_now else None
        if stopping:
            raise TrainingInterrupted(stop.signum or signal.SIGTERM, done, path)

    def _log(self, record: dict, metrics, bar) -> None:
        if metrics is None:
            return
        collapsed = math.log(self.config.train.batch_size)
        if self.config.loss.name in SEQUENCE_LOSSES and abs(record["loss"] - collapsed) < 1e-3:
            # what is observed, not a diagnosis: every pair of the batch scores the same, so the loss carries no
            # signal (batch_size=1 and tau<0, which also give this, are refused by the config)
            log.warning(
                "step %d: loss = %.4f = log(train.batch_size=%d): every video-text pair of the batch "
                "scores the same, so this step taught nothing",
                record["step"],
                record["loss"],
                self.config.train.batch_size,
            )
            log.warning("collapse detector: %s", getattr(self.loss, "diagnostics", None))
        record.update(getattr(self.loss, "diagnostics", None) or {})  # the loss's collapse detector (skip_share, ...)
        metrics.write(json.dumps(record, sort_keys=True) + "\n")
        metrics.flush()
        if bar is not None:
            bar.set_postfix(loss=f"{record['loss']:.4f}", clips_s=f"{record['clips_per_s']:.0f}")
        else:
            log.info(
                "step %d/%d loss %.4f lr %.2e %.1f clips/s skipped %d",
                record["step"],
                self.total,
                record["loss"],
                record["lr"],
                record["clips_per_s"],
                record["skipped"],
            )


# ------------------------------------------------------------------------------------------- entry points
def fit(config: Config, callbacks: Iterable[Callable[[dict], None]] = (), force_resume: bool = False) -> Path:
    """Train `config` (a `Config`, or a profile name / yaml path) and return the run directory.

    Launched by torchrun, it joins the process group (gloo on CPU, NCCL on CUDA) and shards every global batch
    over the processes. `callbacks` are called on every rank after every step with {"step", "loss", "lr"}.
    Raises ValueError / FileNotFoundError before the first step when the config, the data paths, the initial
    checkpoint or the checkpoint to resume do not fit; `TrainingInterrupted` after SIGTERM/SIGINT (a checkpoint
    of the last finished step is written first). Resuming (`train.resume=true`) with a config that differs from
    the checkpoint's outside `runtime.RESUME_SAFE` is refused naming the keys; `force_resume=True` resumes anyway
    and appends the changes to `<run>/resumes.jsonl` (as any safe change is).
    """
    if not isinstance(config, Config):
        config = load_config(config)
    import os

    device = builders.resolve_device(config, int(os.environ.get("LOCAL_RANK", "0")))
    if device.type == "cuda":
        torch.cuda.set_device(device)
    info = dist_utils.setup(device)
    try:
        return _Run(config, info, device, force_resume).train(callbacks)
    finally:
        dist_utils.teardown(info)
