"""Input checks the estimators share, on top of scikit-learn's."""

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils.validation import validate_data


def generator(random_state):
    """The ``numpy.random.Generator`` randla takes as ``rng``, from scikit-learn's ``random_state``.

    Seeded by one draw of :func:`sklearn.utils.check_random_state`: an int
    gives the same generator (and fit) every time, a ``RandomState`` is
    advanced, and None draws from numpy's global ``RandomState``, as
    scikit-learn's own estimators do.
    """
    return np.random.default_rng(check_random_state(random_state).randint(2**32, dtype=np.uint64))


def validated(estimator, X="no_validation", y="no_validation", **check_params):
    """scikit-learn's ``validate_data``, refusing masked arrays first.

    scikit-learn converts a masked array with ``np.asarray``, which drops the
    mask: the fit would use the values the user hid. randla's functions refuse
    them, and so do its estimators, naming the argument.
    """
    for name, value in (("X", X), ("y", y)):
        if isinstance(value, np.ma.MaskedArray):
            raise TypeError(
                f"{name} is a masked array, which {type(estimator).__name__} does not accept "
                f"(its mask would be ignored): pass {name}.filled(value) or drop the masked rows"
            )
    return validate_data(estimator, X, y, **check_params)
