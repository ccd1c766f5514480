"""Shared set-up of the PyTorch model tests: one thread, as the machines running them are small and shared."""

import torch

torch.set_num_threads(1)
