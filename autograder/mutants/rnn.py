"""Seeded wrong solutions of the assignment ``rnn``: the mistakes students make, and what each must cost.

Each mutant is the reference answer cell with one mistake edited in (:func:`_edit` checks that the edited line
is there exactly once, so a change to the reference that would silently disarm a mutant fails loudly instead),
or a cell written as a student would. ``fails`` lists exactly the test cells that must fail. The later parts
build on the earlier ones: ``rnn_forward`` calls the student's ``rnn_step``, and ``rnn_numerical_gradients``
calls ``rnn_forward``, so a mistake in ``rnn_step`` also costs those two cells. ``rnn_backward`` is graded with a
cache built by the grader, so it stands alone.
"""

from __future__ import annotations

from functools import cache

from autograder.mutants import Mutant

__all__ = ["MUTANTS"]


@cache
def _reference_answers() -> dict[str, str]:
    """grade_id -> the reference answer cell as a student would submit it (solution markers removed)."""
    from autograder.course import load_source
    from autograder.solutions import strip_solution_markers

    answers = {}
    for cell in load_source("rnn").cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and cell.cell_type == "code":
            answers[meta["grade_id"]] = strip_solution_markers(cell.source)
    return answers


def _edit(cell: str, *edits: tuple[str, str]) -> dict[str, str]:
    """``{cell: reference source with each (old, new) replaced}``; every ``old`` must occur exactly once."""
    source = _reference_answers()[cell]
    for old, new in edits:
        count = source.count(old)
        if count != 1:
            raise ValueError(f"mutant of {cell!r}: {old!r} occurs {count} times in the reference answer, not once")
        source = source.replace(old, new)
    return {cell: source}


_LSTM_CALLS_REFERENCE = '''\
def lstm_step(x, h_prev, c_prev, weight_ih, weight_hh, bias_ih, bias_hh):
    """One step of the LSTM, handed to the course's reference."""
    from coursepkg.rnn import lstm_step as reference_step

    h_next, c_next, _ = reference_step(x, h_prev, c_prev, weight_ih, weight_hh, bias_ih, bias_hh)
    return h_next, c_next
'''

_GRU_CALLS_TORCH = '''\
def gru_step(x, h_prev, weight_ih, weight_hh, bias_ih, bias_hh):
    """One step of the GRU, handed to torch.nn.GRUCell with the same weights."""
    import torch

    cell = torch.nn.GRUCell(x.shape[1], h_prev.shape[1]).double()
    with torch.no_grad():
        for parameter, value in zip(cell.parameters(), (weight_ih, weight_hh, bias_ih, bias_hh)):
            parameter.copy_(torch.from_numpy(value))
        return cell(torch.from_numpy(x), torch.from_numpy(h_prev)).numpy()
'''

_TRAIN_LAST_STEP_ONLY = '''\
def train_sequence_model(x, y, *, seed=0):
    """A 'sequence model' that reads only the last number of each sequence."""
    import torch
    from torch import nn

    class LastStep(nn.Module):
        def __init__(self):
            super().__init__()
            self.head = nn.Sequential(nn.Linear(1, 16), nn.Tanh(), nn.Linear(16, 1))

        def forward(self, x):  # x (M, T, 1)
            return self.head(x[:, -1])  # (M, 1)

    torch.manual_seed(seed)
    model = LastStep()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    loss_fn = nn.BCEWithLogitsLoss()
    x_all = torch.as_tensor(x, dtype=torch.float32)
    y_all = torch.as_tensor(y, dtype=torch.float32)[:, None]
    for epoch in range(5):
        for start in range(0, len(x_all), 64):
            optimizer.zero_grad()
            loss_fn(model(x_all[start:start + 64]), y_all[start:start + 64]).backward()
            optimizer.step()
    return model
'''

_TRAIN_FLATTENED = '''\
def train_sequence_model(x, y, *, seed=0):
    """A dense network on the flattened sequence: it learns the task, but reads only sequences of length 10."""
    import torch
    from torch import nn

    torch.manual_seed(seed)
    model = nn.Sequential(nn.Flatten(), nn.Linear(x.shape[1], 1))
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-2)
    loss_fn = nn.BCEWithLogitsLoss()
    x_all = torch.as_tensor(x, dtype=torch.float32)
    y_all = torch.as_tensor(y, dtype=torch.float32)[:, None]
    for epoch in range(20):
        for start in range(0, len(x_all), 64):
            optimizer.zero_grad()
            loss_fn(model(x_all[start:start + 64]), y_all[start:start + 64]).backward()
            optimizer.step()
    return model
'''


MUTANTS: list[Mutant] = [
    # ---- rnn_step
    Mutant(
        "rnn-step-no-bias-hh",
        "adds only one of PyTorch's two biases; rnn_forward and the numerical gradients inherit the mistake",
        _edit("rnn_step", ("+ h_prev @ weight_hh.T + bias_hh", "+ h_prev @ weight_hh.T")),
        {"test_rnn_step", "test_rnn_forward", "test_gradient_check"},
    ),
    # ---- lstm_step
    Mutant(
        "lstm-gate-order-ifog",
        "reads the gates in cs231n's order i, f, o, g instead of PyTorch's i, f, g, o",
        _edit("lstm_step",
              ("g = np.tanh(pre[:, 2 * H:3 * H])", "g = np.tanh(pre[:, 3 * H:])"),
              ("o = sigmoid(pre[:, 3 * H:])", "o = sigmoid(pre[:, 2 * H:3 * H])")),
        {"test_lstm_step"},
    ),
    Mutant(
        "lstm-no-forget-gate",
        "forgets the forget gate: the cell state is never scaled down, c = c_prev + i * g",
        _edit("lstm_step", ("c_next = f * c_prev + i * g", "c_next = c_prev + i * g")),
        {"test_lstm_step"},
    ),
    Mutant(
        "lstm-calls-reference",
        "hands the step to coursepkg.rnn.lstm_step: right values, but not from scratch",
        {"lstm_step": _LSTM_CALLS_REFERENCE},
        {"test_lstm_step"},
    ),
    # ---- gru_step
    Mutant(
        "gru-z-swapped",
        "swaps z and 1 - z, so that z = 1 takes the new candidate instead of keeping the old state",
        _edit("gru_step", ("return (1 - z) * n + z * h_prev", "return z * n + (1 - z) * h_prev")),
        {"test_gru_step"},
    ),
    Mutant(
        "gru-reset-before",
        "applies the reset gate before the recurrent product (Keras's reset_after=False), not after as PyTorch",
        _edit("gru_step", ("n = np.tanh(from_x[:, 2 * H:] + r * from_h[:, 2 * H:])",
                           "n = np.tanh(from_x[:, 2 * H:] + (r * h_prev) @ weight_hh[2 * H:].T + bias_hh[2 * H:])")),
        {"test_gru_step"},
    ),
    Mutant(
        "gru-calls-torch",
        "copies the weights into torch.nn.GRUCell: right values, but not from scratch",
        {"gru_step": _GRU_CALLS_TORCH},
        {"test_gru_step"},
    ),
    # ---- rnn_forward
    Mutant(
        "forward-ignores-h0",
        "starts every sequence from zeros instead of h0; the numerical dh0 is then zero",
        _edit("rnn_forward", ("    h = h0\n", "    h = np.zeros_like(h0)\n")),
        {"test_rnn_forward", "test_gradient_check"},
    ),
    # ---- rnn_backward
    Mutant(
        "bptt-no-tanh-derivative",
        "backpropagates through tanh as if it were the identity: forgets the factor 1 - h_t**2",
        _edit("rnn_backward", ("delta = dh * (1 - hs[:, t] ** 2)", "delta = dh")),
        {"test_rnn_backward"},
    ),
    Mutant(
        "bptt-no-accumulation",
        "overwrites the weight gradients at every step instead of summing them over time",
        _edit("rnn_backward",
              ("dweight_ih += delta.T @ x[:, t]", "dweight_ih = delta.T @ x[:, t]"),
              ("dweight_hh += delta.T @ h_prev", "dweight_hh = delta.T @ h_prev")),
        {"test_rnn_backward"},
    ),
    Mutant(
        "bptt-no-recurrent-gradient",
        "treats every step on its own: the gradient from step t + 1 never reaches h_t",
        _edit("rnn_backward", ("dh = dhs[:, t] + dh_next", "dh = dhs[:, t]")),
        {"test_rnn_backward"},
    ),
    # ---- numerical gradient
    Mutant(
        "numgrad-one-sided",
        "one-sided differences (f(x + eps) - f(x)) / eps: an error of the order of eps",
        _edit("numerical_gradient",
              ("x[index] = old - eps\n        f_minus = float(f(x))", "x[index] = old\n        f_minus = float(f(x))"),
              ("grad[index] = (f_plus - f_minus) / (2 * eps)", "grad[index] = (f_plus - f_minus) / eps")),
        {"test_gradient_check"},
    ),
    # ---- clipping
    Mutant(
        "clip-per-array",
        "clips every array by its own norm instead of one global norm",
        {"clip_grad_norm": '''\
def clip_grad_norm(grads, max_norm):
    """Clip each gradient array to max_norm on its own; return the global norm."""
    norm = float(np.sqrt(sum(np.sum(g ** 2) for g in grads.values())))
    clipped = {name: g * min(1.0, max_norm / (np.linalg.norm(g) + 1e-6)) for name, g in grads.items()}
    return clipped, norm
'''},
        {"test_clip_grad_norm"},
    ),
    Mutant(
        "clip-no-epsilon",
        "scales by max_norm / norm, without PyTorch's 1e-6 (passes the visible tests)",
        _edit("clip_grad_norm", ("scale = min(1.0, max_norm / (norm + 1e-6))", "scale = min(1.0, max_norm / norm)")),
        {"test_clip_grad_norm"},
    ),
    Mutant(
        "clip-returns-norm-after",
        "returns the norm after clipping instead of before",
        _edit("clip_grad_norm", ("return {name: g * scale for name, g in grads.items()}, norm",
                                 "return {name: g * scale for name, g in grads.items()}, norm * scale")),
        {"test_clip_grad_norm"},
    ),
    # ---- training
    Mutant(
        "train-does-not-converge",
        "one epoch at a learning rate of 1e-4: the GRU barely moves from its initial guess",
        _edit("train_sequence_model",
              ("lr=1e-2)", "lr=1e-4)"),
              ('group["lr"] = 1e-2 * (1 - step / total_steps)', 'group["lr"] = 1e-4'),
              ("epochs, batch_size = 6, 64", "epochs, batch_size = 1, 64")),
        {"test_train_sequence_model"},
    ),
    Mutant(
        "train-sigmoid-output",
        "ends the model with a sigmoid (probabilities) although the task asks for logits",
        _edit("train_sequence_model",
              ("return self.head(hs[:, -1])", "return torch.sigmoid(self.head(hs[:, -1]))"),
              ("loss_fn = nn.BCEWithLogitsLoss()", "loss_fn = nn.BCELoss()")),
        {"test_train_sequence_model"},
    ),
    Mutant(
        "train-last-step-only",
        "a model that reads only the last number of each sequence: about 61% right",
        {"train_sequence_model": _TRAIN_LAST_STEP_ONLY},
        {"test_train_sequence_model"},
    ),
    Mutant(
        "train-flattened-dense",
        "a dense layer on the flattened sequence: it learns the sum, but cannot read sequences of other lengths",
        {"train_sequence_model": _TRAIN_FLATTENED},
        {"test_train_sequence_model"},
    ),
]
