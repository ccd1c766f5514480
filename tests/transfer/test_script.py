"""scripts/pretrain_source_cnn.py regenerates loadable weights, deterministically."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from coursepkg.transfer.weights import load_state

ROOT = Path(__file__).resolve().parents[2]


def test_quick_run_writes_weights_that_both_frameworks_load(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "pretrain_source_cnn.py"), "--out", str(tmp_path), "--quick"],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    path = tmp_path / "source_cnn.npz"
    assert report["path"] == str(path) and path.is_file()
    state, committed = load_state(path), load_state()
    assert {k: v.shape for k, v in state.items()} == {k: v.shape for k, v in committed.items()}

    import coursepkg.transfer.keras as tk
    import coursepkg.transfer.torch as tt

    import torch

    assert tt.load_pretrained(include_top=True, path=path)(torch.zeros(2, 1, 16, 16)).shape == (2, 5)
    assert tk.load_pretrained(include_top=True, path=path)(np.zeros((2, 16, 16, 1), np.float32)).shape == (2, 5)

    # deterministic: the same settings in this process give the same arrays
    model, _ = tt.pretrain_source(**{k: v for k, v in report["settings"].items()})
    again = tt.state_dict(model)
    for k in state:
        np.testing.assert_allclose(again[k], state[k], rtol=0, atol=1e-6, err_msg=k)
