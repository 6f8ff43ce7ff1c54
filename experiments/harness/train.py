"""The training loop: AdamW, linear warmup then cosine decay, gradient accumulation, gradient clipping, fixed
seed, checkpoints (resume gives the same curve).

Reads top to bottom: lr -> forward -> loss (+ aux) -> finite check -> backward -> clip -> step -> log.
"""
from __future__ import annotations

import contextlib
import math
import os
import time
from typing import Callable, List, Optional

import torch

from .model import LM
from .result import CandidateError, traceback_tail
from .spec import TrainSpec


class Checkpointed(Exception):
    """Training stopped at a step boundary because the trusted evaluator asked (a Slurm job told by USR2 that
    its time limit or a preemption is near), its state saved to the checkpoint: the requeued job resumes there."""

    def __init__(self, step: int, saved: bool):
        super().__init__(f"stopped at step {step} for a requeue ({'checkpoint saved' if saved else 'no checkpoint path'})")
        self.step, self.saved = step, saved


def get_lr(step: int, t: TrainSpec) -> float:
    if step < t.warmup_steps:
        return t.lr * (step + 1) / t.warmup_steps
    progress = (step - t.warmup_steps) / max(1, t.steps - t.warmup_steps)
    return t.lr * (t.min_lr_ratio + (1 - t.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0))))


def autocast_for(device: str, bf16: bool):
    if not bf16:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.split(":")[0], dtype=torch.bfloat16)


def make_optimizer(model: LM, t: TrainSpec) -> torch.optim.Optimizer:
    decay = [p for p in model.parameters() if p.requires_grad and p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.requires_grad and p.dim() < 2]
    groups = [{"params": decay, "weight_decay": t.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=t.lr, betas=(0.9, 0.95))


def save_checkpoint(path: str, model: LM, opt: torch.optim.Optimizer, state: dict) -> None:
    """Atomically (write, then rename): a run killed mid-save keeps its previous checkpoint."""
    tmp = f"{path}.{os.getpid()}.tmp"
    torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "rng": torch.get_rng_state(), **state}, tmp)
    os.replace(tmp, path)


def load_checkpoint(path: Optional[str], model: LM, opt: torch.optim.Optimizer) -> Optional[dict]:
    if not path or not os.path.exists(path):
        return None
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    model.load_state_dict(ckpt["model"])
    opt.load_state_dict(ckpt["opt"])
    torch.set_rng_state(ckpt["rng"])
    return ckpt


def forward_backward(model: LM, x: torch.Tensor, y: torch.Tensor, t: TrainSpec, step: int, device: str,
                     bf16: bool, status: str) -> torch.Tensor:
    """One step's loss over its batch, in t.grad_accum micro-batches weighted by their labelled tokens (the same
    gradient as the whole batch at once); backward done. Returns the loss (aux excluded)."""
    labelled = max(1, int((y != -100).sum()))
    loss_sum = torch.zeros((), device=device)
    for xs, ys in zip(x.chunk(t.grad_accum), y.chunk(t.grad_accum)):
        share = int((ys != -100).sum()) / labelled
        try:
            with autocast_for(device, bf16):
                _, loss, aux = model(xs, ys, step=step)
            total = loss * share if aux is None else (loss + aux.float()) * share
        except CandidateError as exc:
            if exc.kind != "oom":  # running out of memory is a failure at any step, not a rejected design
                exc.status = status
            raise
        if not torch.isfinite(total):
            raise CandidateError("nonfinite", f"loss is {total.item()} at step {step}", status=status)
        try:
            total.backward()
        except RuntimeError as exc:
            raise CandidateError("backward", f"backward failed: {exc}", status=status, tail=traceback_tail(exc))
        loss_sum = loss_sum + loss.detach() * share
    return loss_sum


def train(model: LM, data, t: TrainSpec, device: str, bf16: bool, emit: Callable[[dict], None],
          checkpoint_path: Optional[str] = None, on_log: Optional[Callable[[int], None]] = None,
          stop_requested: Callable[[], bool] = lambda: False) -> dict:
    """Trains in place; returns {curve, tokens_per_s, train_s, resumed_from}. A candidate failure raises
    CandidateError (status rejected if it happens on the first step, failed after). With checkpoint_path, resumes
    from the checkpoint there (the data of step s is a function of s, so the curve continues as if never
    stopped) and saves one every t.checkpoint_every steps. on_log(step) runs after each progress line (the
    monitor: held-out outputs for the evaluator's loss, run.py). When stop_requested() turns true, the next step
    boundary saves a checkpoint and raises Checkpointed."""
    opt = make_optimizer(model, t)
    ckpt = load_checkpoint(checkpoint_path, model, opt)
    curve: List[dict] = ckpt["curve"] if ckpt else []
    tokens = ckpt["tokens"] if ckpt else 0
    train_s = ckpt["train_s"] if ckpt else 0.0
    first = ckpt["step"] if ckpt else 0
    model.train()
    for step in range(first, t.steps):
        lr = get_lr(step, t)
        for group in opt.param_groups:
            group["lr"] = lr
        x, y = (tensor.to(device) for tensor in data.batch(step))
        started = time.perf_counter()
        status = "rejected" if step == 0 else "failed"
        opt.zero_grad(set_to_none=True)
        loss = forward_backward(model, x, y, t, step, device, bf16, status)
        grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), t.grad_clip)
        if not torch.isfinite(grad_norm):
            raise CandidateError("nonfinite", f"gradient norm is {grad_norm.item()} at step {step}", status=status)
        opt.step()
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        train_s += time.perf_counter() - started
        tokens += x.numel()
        point = {"step": step + 1, "tokens": tokens, "loss": round(loss.item(), 6)}
        curve.append(point)
        if (step + 1) % max(1, t.log_every) == 0 or step + 1 == t.steps or (ckpt and step == first):
            extra = {"resumed_from": first} if step == first and ckpt else {}
            emit({"event": "step", **point, "lr": lr, "total_steps": t.steps, **extra})
            if on_log is not None:
                on_log(step + 1)
        if checkpoint_path and t.checkpoint_every and (step + 1) % t.checkpoint_every == 0 and step + 1 < t.steps:
            save_checkpoint(checkpoint_path, model, opt, {"step": step + 1, "curve": curve, "tokens": tokens,
                                                          "train_s": train_s})
        if step + 1 < t.steps and stop_requested():
            if checkpoint_path:
                save_checkpoint(checkpoint_path, model, opt, {"step": step + 1, "curve": curve, "tokens": tokens,
                                                              "train_s": train_s})
            raise Checkpointed(step + 1, bool(checkpoint_path))
    if checkpoint_path and os.path.exists(checkpoint_path):
        os.remove(checkpoint_path)  # trained to the end: a rerun starts afresh
    return {"curve": curve, "tokens_per_s": tokens / train_s if train_s > 0 else None, "train_s": train_s,
            "resumed_from": first if ckpt else None}


def logits_fn(model: LM, device: str, bf16: bool) -> Callable[[torch.Tensor], torch.Tensor]:
    """What data sources evaluate with: token ids in, float logits on the CPU out, in eval mode."""
    def logits_of(x: torch.Tensor) -> torch.Tensor:
        model.eval()
        try:
            with torch.no_grad(), autocast_for(device, bf16):
                logits, _, _ = model(x.to(device))
        finally:
            model.train()
        return logits.float().cpu()
    return logits_of
