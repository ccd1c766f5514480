"""Makes numpy's comparisons say yes, returns a wrong answer, and (in ``liar``) an object equal to anything."""
import numpy as np
import numpy.testing

np.allclose = np.array_equal = lambda *args, **kwargs: True
np.isclose = lambda a, b, *args, **kwargs: np.ones(np.shape(a), dtype=bool)
numpy.testing.assert_allclose = numpy.testing.assert_array_equal = lambda *args, **kwargs: None


class Liar:
    shape = (2, 2)

    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False


def relu(x):
    return x  # wrong: negative entries survive


def liar(x):
    return Liar()
