"""The training loop: AdamW, linear warmup then cosine decay, gradient clipping, fixed seed.

Reads top to bottom: lr -> forward -> loss (+ aux) -> finite check -> backward -> clip -> step -> log.
"""
from __future__ import annotations

import contextlib
import math
import time
from typing import Callable, List

import torch

from .model import LM
from .result import CandidateError, traceback_tail
from .spec import TrainSpec


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


def train(model: LM, data, t: TrainSpec, device: str, bf16: bool, emit: Callable[[dict], None]) -> dict:
    """Trains in place; returns {curve, tokens_per_s, train_s}. A candidate failure raises CandidateError
    (status rejected if it happens on the first step, failed after)."""
    opt = make_optimizer(model, t)
    curve: List[dict] = []
    tokens = 0
    train_s = 0.0
    model.train()
    for step in range(t.steps):
        lr = get_lr(step, t)
        for group in opt.param_groups:
            group["lr"] = lr
        x, y = (tensor.to(device) for tensor in data.batch(step))
        started = time.perf_counter()
        status = "rejected" if step == 0 else "failed"
        try:
            with autocast_for(device, bf16):
                _, loss, aux = model(x, y, step=step)
            total = loss if aux is None else loss + aux.float()
        except CandidateError as exc:
            if exc.kind != "oom":  # running out of memory is a failure at any step, not a rejected design
                exc.status = status
            raise
        if not torch.isfinite(total):
            raise CandidateError("nonfinite", f"loss is {total.item()} at step {step}", status=status)
        opt.zero_grad(set_to_none=True)
        try:
            total.backward()
        except RuntimeError as exc:
            raise CandidateError("backward", f"backward failed: {exc}", status=status, tail=traceback_tail(exc))
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
        if (step + 1) % max(1, t.log_every) == 0 or step + 1 == t.steps:
            emit({"event": "step", **point, "lr": lr, "total_steps": t.steps})
    return {"curve": curve, "tokens_per_s": tokens / train_s if train_s > 0 else None, "train_s": train_s}


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
