"""im2col and col2im: the column layout, and col2im as the adjoint of im2col (<A x, y> = <x, A^T y>)."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from coursepkg.ops import col2im, im2col


def test_column_layout():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    cols = im2col(x, (2, 2), (2, 2))
    assert cols.shape == (1, 4, 4)
    np.testing.assert_array_equal(cols[0, :, 0], [0, 1, 4, 5])  # the top-left field, row-major
    np.testing.assert_array_equal(cols[0, :, 3], [10, 11, 14, 15])


@settings(max_examples=50, deadline=None)
@given(
    st.integers(1, 2), st.integers(1, 3), st.integers(3, 8), st.integers(3, 8),
    st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.integers(1, 2),
    st.integers(0, 1000),
)
def test_col2im_is_the_adjoint_of_im2col(n, c, h, w, kh, kw, sh, sw, d, seed):
    if d * (kh - 1) + 1 > h or d * (kw - 1) + 1 > w:
        return
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c, h, w))
    cols = im2col(x, (kh, kw), (sh, sw), (d, d))
    y = rng.standard_normal(cols.shape)
    lhs = np.sum(cols * y)
    rhs = np.sum(x * col2im(y, x.shape, (kh, kw), (sh, sw), (d, d)))
    np.testing.assert_allclose(lhs, rhs, rtol=1e-10)
