"""Training on several processes under `torchrun` (PyTorch's launcher): DistributedDataParallel, gloo on
the CPU, NCCL on GPUs. Nothing here starts processes; torchrun (or Spark's TorchDistributor, Ray
Train's TorchTrainer) does, and sets RANK, WORLD_SIZE and the rendezvous variables this reads.

Every rank reads the same data and draws the same shuffled order of forecast origins (same seed);
each global batch of --batch-size origins is dealt out across the ranks, so the effective batch is
the same as one process's and DDP's averaged gradients give every rank the same step. Rank 0 alone
writes the model directory.
"""

from __future__ import annotations

import os

import torch


def launched() -> bool:
    """Whether this process is one of several: started by torchrun (WORLD_SIZE above 1), or in a process
    group a launcher already formed (Ray Train's TorchTrainer does)."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return dist.get_world_size() > 1
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def start(device_name: str) -> None:
    """Join the process group torchrun prepared (once): NCCL when training on CUDA, else gloo."""
    import torch.distributed as dist

    if not launched() or dist.is_initialized():
        return
    cuda = device_name in ("auto", "cuda") and torch.cuda.is_available()
    if cuda:
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    dist.init_process_group(backend="nccl" if cuda else "gloo")


def stop() -> None:
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def rank_and_world() -> tuple[int, int]:
    """(this process's rank, the number of processes); (0, 1) outside torchrun."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def is_primary() -> bool:
    """Rank 0: the process that writes files and prints."""
    return rank_and_world()[0] == 0


def local_device(device: torch.device) -> torch.device:
    """A CUDA device becomes this rank's own GPU (LOCAL_RANK)."""
    if device.type == "cuda" and launched():
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    return device


def wrap(model: torch.nn.Module) -> torch.nn.Module:
    """The module whose forward training calls: DDP around `model` when several ranks train, else itself."""
    if rank_and_world()[1] == 1:
        return model
    from torch.nn.parallel import DistributedDataParallel

    on_gpu = next(model.parameters()).is_cuda
    return DistributedDataParallel(model, device_ids=[torch.cuda.current_device()] if on_gpu else None)


def share(batch: torch.Tensor) -> torch.Tensor:
    """This rank's part of a global batch of items: every world-th one, starting at its rank."""
    rank, world = rank_and_world()
    return batch if world == 1 else batch[rank::world]


def summed(*values: float) -> list[float]:
    """The sums over all ranks of these numbers (the epoch's loss total and sample count)."""
    rank, world = rank_and_world()
    if world == 1:
        return list(values)
    import torch.distributed as dist

    on = "cuda" if dist.get_backend() == "nccl" else "cpu"  # NCCL reduces GPU tensors only
    tensor = torch.tensor(values, dtype=torch.float64, device=on)
    dist.all_reduce(tensor)
    return tensor.tolist()
