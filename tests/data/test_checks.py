"""Tests for coursepkg.data._checks."""

import numpy as np
import pytest

from coursepkg.data._checks import as_float_dtype


@pytest.mark.parametrize("dtype", [np.float32, "float64", np.dtype(np.float16), float])
def test_float_dtypes_pass(dtype):
    assert as_float_dtype(dtype, "f").kind == "f"


@pytest.mark.parametrize(
    ("dtype", "match"),
    [
        (np.int64, r"f: `dtype` must be a floating dtype such as np.float32.*Received: dtype=int64"),
        (bool, r"Received: dtype=bool"),
        ("not-a-dtype", r"must be a NumPy floating dtype. Received: dtype='not-a-dtype'"),
    ],
)
def test_other_dtypes_fail(dtype, match):
    with pytest.raises(TypeError, match=match):
        as_float_dtype(dtype, "f")
