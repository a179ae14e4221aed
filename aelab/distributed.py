"""Multi-process data parallelism on torch.distributed, as launched by `torchrun -m aelab train ...`.

torchrun sets RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT (`--standalone` picks a free port);
aelab joins that group (gloo on CPU, nccl on GPU) with a timeout, so a lost peer fails instead of hanging.
"""

from __future__ import annotations

import gc
import os
from datetime import timedelta

import torch
import torch.distributed as dist

from .errors import AelabError

TIMEOUT_S = int(os.environ.get("AELAB_DIST_TIMEOUT", "600"))


def init_from_env() -> None:
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1 or dist.is_initialized():
        return
    backend = "nccl" if torch.cuda.is_available() else "gloo"
    if backend == "nccl":
        local_rank, gpus = int(os.environ.get("LOCAL_RANK", "0")), torch.cuda.device_count()
        if local_rank >= gpus:  # NCCL takes one GPU per process; torch would fail with "invalid device ordinal"
            raise AelabError(
                f"torchrun started more processes on this machine than it has GPUs ({gpus}): pass --nproc_per_node "
                f"{gpus} or fewer, or set CUDA_VISIBLE_DEVICES= to train in CPU processes (gloo)"
            )
        torch.cuda.set_device(local_rank)
    dist.init_process_group(backend, timeout=timedelta(seconds=TIMEOUT_S))


def rank_and_world() -> tuple[int, int]:
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def is_main() -> bool:
    return rank_and_world()[0] == 0


def barrier() -> None:
    if rank_and_world()[1] > 1:
        dist.barrier()


def all_sum(values: list[float], device) -> list[float]:
    """Sum floats over ranks (identity in a single process)."""
    if rank_and_world()[1] == 1:
        return values
    t = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(t)
    return t.tolist()


def shutdown() -> None:
    """Leave the process group, then collect the run's garbage (DDP's reducer, finished work, their tensors) while
    the interpreter can still hand gloo's worker threads the GIL they need to let go of a tensor. Left to the
    interpreter's exit, that collection made a worker take the GIL during shutdown: `terminate called without an
    active exception`, SIGABRT, in 1 of 4-17 two-process runs (core dump: ~AsyncAllreduceWork -> decref_pyobject ->
    take_gil -> PyThread_exit_thread inside Py_FinalizeEx); with it, 60 runs of 60 passed."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
        gc.collect()
