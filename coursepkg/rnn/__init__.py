"""NumPy reference implementation of recurrent networks: Elman RNN, LSTM and GRU.

Explained in the recurrent-networks chapter. Importing this package imports NumPy only.

Conventions (those of PyTorch, so weights copy over unchanged):

- sequences are batch-first, ``x`` of shape ``(N, T, D)``, hidden states ``(N, T, H)``;
- ``weight_ih`` is ``(G*H, D)``, ``weight_hh`` ``(G*H, H)``, biases ``(G*H,)`` or ``None``, with
  ``G`` = 1 (RNN), 4 (LSTM, gates i, f, g, o) or 3 (GRU, gates r, z, n, PyTorch's equations);
- ``*_forward`` returns ``(hs, cache)``; ``*_backward(dhs, cache, *, dh_T=None)`` returns a
  ``NamedTuple`` of gradients; single steps are ``*_step`` / ``*_step_backward``;
- :mod:`coursepkg.rnn.layout` converts Keras weights, :mod:`coursepkg.rnn.params` counts parameters
  in both frameworks, :mod:`coursepkg.rnn.clipping` clips gradients as ``torch.nn.utils`` does.
"""

from coursepkg.rnn.cells import (
    GRUStepCache,
    LSTMStepCache,
    LSTMStepGrads,
    RNNStepCache,
    StepGrads,
    gru_step,
    gru_step_backward,
    lstm_step,
    lstm_step_backward,
    rnn_step,
    rnn_step_backward,
)
from coursepkg.rnn.clipping import clip_grad_norm, clip_grad_value
from coursepkg.rnn.layout import weights_from_keras, weights_to_keras
from coursepkg.rnn.params import rnn_param_count
from coursepkg.rnn.sequence import (
    GRUCache,
    LSTMCache,
    LSTMGrads,
    RecurrentGrads,
    RNNCache,
    gru_backward,
    gru_forward,
    hidden_grad_norms,
    hidden_grads,
    lstm_backward,
    lstm_forward,
    rnn_backward,
    rnn_forward,
)

__all__ = [
    # full sequences (forward + BPTT)
    "rnn_forward",
    "rnn_backward",
    "lstm_forward",
    "lstm_backward",
    "gru_forward",
    "gru_backward",
    "hidden_grads",
    "hidden_grad_norms",
    "RNNCache",
    "LSTMCache",
    "GRUCache",
    "RecurrentGrads",
    "LSTMGrads",
    # single steps
    "rnn_step",
    "rnn_step_backward",
    "lstm_step",
    "lstm_step_backward",
    "gru_step",
    "gru_step_backward",
    "RNNStepCache",
    "LSTMStepCache",
    "GRUStepCache",
    "StepGrads",
    "LSTMStepGrads",
    # clipping, parameter counts, Keras layout
    "clip_grad_norm",
    "clip_grad_value",
    "rnn_param_count",
    "weights_from_keras",
    "weights_to_keras",
]
