r"""Finite determinantal point processes: projection DPPs, L- and K-ensembles, k-DPPs.

A DPP on :math:`\{0, \dots, N-1\}` with marginal kernel :math:`K` draws a
random set :math:`Y` with :math:`P(S \subseteq Y) = \det K_S`; an L-ensemble
has :math:`P(Y = S) = \det L_S / \det(I + L)`, the DPP with
:math:`K = L(I + L)^{-1}`. Every sampler here reduces to the projection DPP
of an orthonormal :math:`V` (:math:`K = VV^*`, :math:`P(Y = S) =
|\det V_S|^2`) after a random choice of eigenvectors (Hough, Krishnapur,
Peres & Virag, 2006); a ``K`` that is itself a projection is sampled from a
factor of it, without eigenvectors.
"""

from ._dpp import sample_dpp, sample_kdpp, sample_projection_dpp

__all__ = ["sample_projection_dpp", "sample_dpp", "sample_kdpp"]
