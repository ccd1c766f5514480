"""Shared set-up of the transfer-learning tests: one CPU thread per framework, the data once per session.

One thread keeps runs repeatable (sums in a fixed order) and fast on a shared machine (two threads fighting
other processes for two cores were 60x slower in our measurements).
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")

import pytest  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def _one_torch_thread():
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def tasks_nchw():
    from coursepkg.transfer import source_target_digits

    return source_target_digits()


@pytest.fixture(scope="session")
def tasks_nhwc():
    from coursepkg.transfer import source_target_digits

    return source_target_digits(channels_last=True)
