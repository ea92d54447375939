"""Clustering rows so that coherent failures get a cluster of their own.

``domino``: the error-aware mixture of Domino (Eyuboglu et al., ICLR 2022). Each component
``s`` models a row's embedding ``z`` with a diagonal Gaussian, its given label ``y`` with a
categorical ``P(y | s)`` and the model's prediction with a categorical ``P(ŷ | s)`` (over the
predicted probabilities, or the error indicator for regression); the label and prediction
log-likelihoods are weighted by :data:`LABEL_WEIGHT`, so rows of one error kind (given 3,
predicted 5) that lie together in the embedding are drawn into one component. EM starts from
k-means on the embedding joined with the weighted one-hot labels and predictions.
``kmeans``: k-means on the embedding alone, the baseline that ignores the errors.

Both fit on at most :data:`FIT_ROWS` sampled rows and then assign every row, in chunks. The
assignment pass also gives each row's component by the embedding alone (weight and Gaussian,
without the label and prediction terms): the cluster's region, which ``derive`` ranks by.

>>> rng = np.random.default_rng(0)
>>> z = rng.normal(size=(400, 2))
>>> y = np.repeat([0, 1], 200)
>>> yhat = np.eye(2)[np.where(z[:, 0] > 1, 1 - y, y)]   # errors where z0 > 1
>>> labels, alone = fit_clusters(z, np.eye(2)[y], yhat, k=4, method="domino", seed=0)
>>> wrong = yhat.argmax(1) != y
>>> best = max(range(4), key=lambda c: wrong[labels == c].mean())
>>> bool(wrong[labels == best].mean() > 0.8)
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from sklearn.cluster import KMeans, MiniBatchKMeans

Method = Literal["domino", "kmeans"]
METHODS: tuple[str, ...] = ("domino", "kmeans")
# γ = γ̂, the weight of log P(y | s) and log P(ŷ | s) beside the Gaussian's (Domino's default
# is 1; 3 separated planted failures better on digits, benchmarks/clusters.py)
LABEL_WEIGHT = 3.0
FIT_ROWS = 20_000  # EM on a sample, then one assignment pass over every row
CHUNK = 100_000
MAX_ITER = 100
TOL = 1e-3  # change of the mean log-likelihood per row
REG = 1e-6  # added to every variance (relative to the embedding's overall variance)
EPS = np.finfo(np.float64).eps


def fit_clusters(z: np.ndarray, y: np.ndarray, yhat: np.ndarray, *, k: int, method: Method,
                 seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Each row's cluster (0..k-1), the rows of ``z`` (n, d) clustered into ``k``; ``y``
    (n, c) one-hot given labels and ``yhat`` (n, c') predicted probabilities (or one-hot
    predictions / error indicators) take part for ``method="domino"``. Also each row's
    embedding-only cluster: for ``domino`` the component whose weighted Gaussian alone is the
    most probable (its region of the embedding, the label and prediction terms left out);
    for ``kmeans`` the same clusters."""
    rng = np.random.default_rng(seed)
    n = len(z)
    fit_rows = np.sort(rng.choice(n, FIT_ROWS, replace=False)) if n > FIT_ROWS else slice(None)

    def sample(a: np.ndarray) -> np.ndarray:
        return a[fit_rows]
    if method == "kmeans":
        kmeans = _kmeans(sample(z).astype(np.float64), k, int(rng.integers(2**31)))
        labels = np.concatenate([kmeans.predict(z[s:s + CHUNK].astype(np.float64))
                                 for s in range(0, n, CHUNK)]).astype(np.int64)
        return labels, labels
    model = _Mixture.fit(sample(z).astype(np.float64), sample(y), sample(yhat), k,
                         int(rng.integers(2**31)))
    pairs = [model.assign(z[s:s + CHUNK].astype(np.float64), y[s:s + CHUNK],
                          yhat[s:s + CHUNK]) for s in range(0, n, CHUNK)]
    return (np.concatenate([both for both, _ in pairs]),
            np.concatenate([alone for _, alone in pairs]))


def _kmeans(x: np.ndarray, k: int, seed: int) -> KMeans | MiniBatchKMeans:
    if len(x) > 20_000:
        return MiniBatchKMeans(k, n_init=3, batch_size=4096, random_state=seed).fit(x)
    return KMeans(k, n_init=3, random_state=seed).fit(x)


@dataclass
class _Mixture:
    """Domino's mixture: log weights, diagonal Gaussians (means, variances), P(y|s), P(ŷ|s)."""

    log_weights: np.ndarray
    means: np.ndarray
    variances: np.ndarray
    p_y: np.ndarray
    p_yhat: np.ndarray

    @classmethod
    def fit(cls, z: np.ndarray, y: np.ndarray, yhat: np.ndarray, k: int, seed: int
            ) -> _Mixture:
        scale = float(z.var(axis=0).mean()) or 1.0
        # k-means on the embedding joined with the weighted labels and predictions: each
        # initial cluster is already near one kind of error
        joined = np.hstack([z / np.sqrt(scale), np.sqrt(LABEL_WEIGHT) * y,
                            np.sqrt(LABEL_WEIGHT) * yhat])
        start = _kmeans(joined, k, seed).labels_
        resp = np.eye(k)[start]
        squares = z * z
        model = cls._m_step(z, squares, y, yhat, resp, scale)
        previous = -np.inf
        for _ in range(MAX_ITER):
            log_norm, log_resp = model._e_step(z, y, yhat, squares)
            resp = np.exp(log_resp)
            resp[resp < 1e-10] = 0.0  # subnormal floats make the matrix products far slower
            model = cls._m_step(z, squares, y, yhat, resp, scale)
            bound = float(log_norm.mean())
            if abs(bound - previous) < TOL:
                break
            previous = bound
        return model

    @classmethod
    def _m_step(cls, z: np.ndarray, squares: np.ndarray, y: np.ndarray, yhat: np.ndarray,
                resp: np.ndarray, scale: float) -> _Mixture:
        nk = resp.sum(axis=0) + 10 * EPS
        means = resp.T @ z / nk[:, None]
        variances = resp.T @ squares / nk[:, None] - means**2 + REG * scale
        return cls(np.log(nk / nk.sum()), means, np.maximum(variances, REG * scale),
                   resp.T @ y / nk[:, None], resp.T @ yhat / nk[:, None])

    def _e_step(self, z: np.ndarray, y: np.ndarray, yhat: np.ndarray, squares: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
        log_prob = self._log_probs(z, y, yhat, squares)[1]
        top = log_prob.max(axis=1, keepdims=True)
        log_prob -= top
        log_norm = np.log(np.exp(log_prob).sum(axis=1))
        return log_norm + top[:, 0], log_prob - log_norm[:, None]

    def _log_probs(self, z: np.ndarray, y: np.ndarray, yhat: np.ndarray, squares: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
        """(n, k) each: log weight + log Gaussian of each row under each component (the
        embedding alone), and that plus the weighted label and prediction terms."""
        precision = 1.0 / self.variances  # (k, d)
        # Σ_j (z_j - μ_j)² / σ_j², expanded so no (n, k, d) array is formed
        distance = squares @ precision.T - 2 * z @ (self.means * precision).T + (
            self.means**2 * precision).sum(axis=1)
        log_embedding = -0.5 * (distance + np.log(2 * np.pi * self.variances).sum(axis=1)
                                ) + self.log_weights
        return log_embedding, (log_embedding + LABEL_WEIGHT * np.log(y @ self.p_y.T + EPS)
                               + LABEL_WEIGHT * np.log(yhat @ self.p_yhat.T + EPS))

    def assign(self, z: np.ndarray, y: np.ndarray, yhat: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray]:
        """Each row's most probable component, and its most probable one by the embedding
        alone (weight and Gaussian, without the label and prediction terms)."""
        log_embedding, log_prob = self._log_probs(z, y, yhat, z * z)
        return (log_prob.argmax(axis=1).astype(np.int64),
                log_embedding.argmax(axis=1).astype(np.int64))
