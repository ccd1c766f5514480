"""Seeded wrong solutions of the self-test assignment."""

from autograder.mutants import Mutant

MUTANTS = [
    Mutant(
        name="abs",
        why="relu as absolute value",
        replace={"relu": "def relu(x):\n    return np.abs(x)\n"},
        fails={"test_relu"},
    ),
    Mutant(
        name="fixed-slope",
        why="ignores the slope argument; passes the visible test, which uses 0.1",
        replace={"leaky_relu": "def leaky_relu(x, slope=0.01):\n    return np.where(x > 0, x, 0.1 * x)\n"},
        fails={"test_leaky_relu"},
    ),
    Mutant(
        name="calls-coursepkg",
        why="calls the reference instead of writing relu",
        replace={"relu": "from coursepkg import ops\n\ndef relu(x):\n    return ops.relu(x)\n"},
        fails={"test_relu"},
    ),
]
