r"""Nyström kernel features with landmarks chosen by ridge leverage scores."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.metrics.pairwise import KERNEL_PARAMS, PAIRWISE_KERNEL_FUNCTIONS, pairwise_kernels
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._nystrom import nystrom_landmarks
from .._validation import warn
from ._data import generator, validated

__all__ = ["Nystroem"]

# Kernels with k(x, x) = 1 for every x: their diagonal costs nothing.
_UNIT_DIAGONAL = {"rbf", "laplacian", "chi2"}


class Nystroem(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    r"""Nyström kernel features whose landmarks come from ridge leverage scores.

    A drop-in for :class:`sklearn.kernel_approximation.Nystroem` (same
    parameters, attributes and ``transform``) with one more parameter,
    ``sampling``. The features :math:`\phi(x) = K_{S,S}^{-1/2} k_S(x)` of the
    ``n_components`` landmarks :math:`S` satisfy
    :math:`\phi(x)^T \phi(y) = k_S(x)^T K_{S,S}^+ k_S(y)`, the Nyström
    approximation :math:`\hat K = K_{:,S} K_{S,S}^+ K_{S,:}` of the kernel.

    Parameters
    ----------
    kernel : str or callable, default="rbf"
        A kernel of :func:`sklearn.metrics.pairwise.pairwise_kernels`, or a
        callable of two points returning a float. It should be positive
        semidefinite: the ridge leverage scores assume it (``"sigmoid"`` is
        not; its negative eigenvalues are treated as 0).
    gamma, coef0, degree : float, default=None
        Parameters of the named kernels, as in scikit-learn.
    kernel_params : dict, default=None
        More parameters for the kernel (a callable one, say).
    n_components : int, default=100
        Number of landmarks and of features (at most the number of samples).
    sampling : {"rls", "uniform", "kdpp"}, default="rls"
        How landmarks are chosen:

        - ``"rls"``: by ridge leverage scores of the kernel matrix,
          estimated by recursive sampling (Musco & Musco, 2017) without
          forming it: :math:`O(n s)` kernel evaluations and
          :math:`O(n s^2)` flops, ``s = n_components``;
        - ``"uniform"``: uniformly without replacement, exactly as
          :class:`sklearn.kernel_approximation.Nystroem` (the same
          ``random_state`` gives the same landmarks);
        - ``"kdpp"``: ``2 n_components`` candidates drawn by ridge leverage
          scores, then a k-DPP with :math:`L = K` on them, which repels
          similar landmarks. It adds an eigendecomposition of the
          candidates' kernel, :math:`8 s^3` flops: affordable up to a few
          hundred components, not thousands.
    random_state : int, RandomState instance or None, default=None
        Seed of the landmark choice. An int gives the same landmarks at
        every fit.
    n_jobs : int, default=None
        Jobs of :func:`~sklearn.metrics.pairwise.pairwise_kernels`.

    Attributes
    ----------
    components_ : ndarray or sparse matrix of shape (n_components, n_features)
        The landmarks.
    component_indices_ : ndarray of shape (n_components,)
        Their rows in the training data.
    normalization_ : ndarray of shape (n_components, n_components)
        :math:`K_{S,S}^{-1/2}` from the SVD :math:`K_{S,S} = U \Sigma V^T`
        as :math:`U \Sigma^{-1/2} V^T`, singular values clipped below at
        1e-12 (as scikit-learn does): landmarks repeated in the data, or
        a kernel of low rank, give a pseudo-inverse root, not infinities.
    probabilities_ : ndarray of shape (n_samples,)
        The law of each landmark draw: :math:`p_i \propto \tilde\ell_i`, the
        estimated ridge leverage scores (``"rls"``; for ``"kdpp"``, of each
        candidate draw), or :math:`1/n` (``"uniform"``).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Their names, when X has feature names that are all strings.

    Notes
    -----
    Ridge leverage scores :math:`\tau_i(\lambda) = (K(K+\lambda I)^{-1})_{ii}`
    measure how much point :math:`i` is needed by the best rank-``r``
    approximation of :math:`K`; uniform landmarks miss small clusters and
    isolated points that the scores find. Sampling by them gives
    :math:`\|K - \hat K\|_2 \le \lambda` with
    :math:`O(d_\mathrm{eff}(\lambda) \log d_\mathrm{eff}(\lambda))`
    landmarks (Musco & Musco, 2017). How the scores are estimated, and
    the guarantee they meet, is in the Notes of
    ``randla._nystrom.nystrom_landmarks``. Fit costs more than uniform
    sampling's :math:`O(s^3)`, which never reads the other points: it
    evaluates an ``n x s`` kernel block about twice and spends
    :math:`O(n s^2)` flops on it, as much as ``transform`` of the
    training data.

    References
    ----------
    Musco, C. & Musco, C. (2017). Recursive sampling for the Nyström
    method. NeurIPS 30, 3833-3845.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from randla.sklearn import Nystroem
    >>> X = load_digits().data / 16
    >>> features = Nystroem(gamma=0.05, n_components=50, random_state=0).fit_transform(X)
    >>> features.shape
    (1797, 50)
    """

    _parameter_constraints: dict = {
        "kernel": [StrOptions(set(PAIRWISE_KERNEL_FUNCTIONS)), callable],
        "gamma": [Interval(Real, 0, None, closed="left"), None],
        "coef0": [Interval(Real, None, None, closed="neither"), None],
        "degree": [Interval(Real, 1, None, closed="left"), None],
        "kernel_params": [dict, None],
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "sampling": [StrOptions({"rls", "uniform", "kdpp"})],
        "random_state": ["random_state"],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        kernel="rbf",
        *,
        gamma=None,
        coef0=None,
        degree=None,
        kernel_params=None,
        n_components=100,
        sampling="rls",
        random_state=None,
        n_jobs=None,
    ):
        self.kernel = kernel
        self.gamma = gamma
        self.coef0 = coef0
        self.degree = degree
        self.kernel_params = kernel_params
        self.n_components = n_components
        self.sampling = sampling
        self.random_state = random_state
        self.n_jobs = n_jobs

    def fit(self, X, y=None):
        """Choose the landmarks and compute the normalization.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : ignored
            Not used, present for the API.

        Returns
        -------
        self : Nystroem
            The fitted transformer.
        """
        self._validate_params()
        X = validated(self, X, accept_sparse="csr")
        params = self._kernel_params()
        n = X.shape[0]
        m = self.n_components
        if m > n:
            warn(
                f"n_components ({m}) > n_samples ({n}): using n_components = {n}, "
                "which evaluates the full kernel",
                UserWarning,
            )
            m = n
        random_state = check_random_state(self.random_state)
        if self.sampling == "uniform":
            # scikit-learn's own draw, so that the landmarks are the same.
            indices = random_state.permutation(n)[:m]
            self.probabilities_ = np.full(n, 1.0 / n)
        else:
            rng = generator(random_state)

            def block(rows, cols):
                return self._kernel(X[rows], X[cols], params)

            diag = np.ones(n) if self.kernel in _UNIT_DIAGONAL else None
            sample = nystrom_landmarks(block, n, m, method=self.sampling, diag=diag, rng=rng)
            indices, self.probabilities_ = sample.indices, sample.probabilities
        basis = X[indices]
        basis_kernel = self._kernel(basis, basis, params)
        if basis_kernel.dtype not in (np.float32, np.float64):
            basis_kernel = basis_kernel.astype(np.float64)
        U, s, Vt = np.linalg.svd(basis_kernel)
        # Clipped as scikit-learn does: a landmark repeated in the data (or
        # a kernel of rank < m) gives a tiny singular value, whose inverse
        # root is capped at 1e6 rather than blowing up.
        s = np.clip(s, 1e-12, None)
        self.normalization_ = (U / np.sqrt(s)) @ Vt
        self.components_ = basis
        self.component_indices_ = np.asarray(indices, dtype=np.int64)
        self._n_features_out = m
        return self

    def transform(self, X):
        """Map X to the Nyström features.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data to transform.

        Returns
        -------
        ndarray of shape (n_samples, n_components)
            :math:`k_S(x)^T K_{S,S}^{-1/2}` for each row ``x``.
        """
        check_is_fitted(self)
        X = validated(self, X, accept_sparse="csr", reset=False)
        embedded = self._kernel(X, self.components_, self._kernel_params())
        return embedded @ self.normalization_.T

    def _kernel(self, X, Y, params):
        return pairwise_kernels(
            X, Y, metric=self.kernel, filter_params=True, n_jobs=self.n_jobs, **params
        )

    def _kernel_params(self):
        params = dict(self.kernel_params or {})
        if callable(self.kernel):
            if any(v is not None for v in (self.gamma, self.coef0, self.degree)):
                raise ValueError(
                    "gamma, coef0 and degree must be None with a callable kernel "
                    "(pass its parameters in kernel_params), got "
                    f"gamma={self.gamma}, coef0={self.coef0}, degree={self.degree}"
                )
            return params
        for name in KERNEL_PARAMS[self.kernel]:
            if getattr(self, name) is not None:
                params[name] = getattr(self, name)
        return params

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
