"""Embedding clusters as a derived feature: ``Analysis.with_clusters`` and its descriptions.

``embed`` finds the space (the user's embeddings, or pixels / TF-IDF / encoded features),
``mixture`` clusters it (Domino's error-aware mixture, or k-means), ``describe`` says what each
cluster is, and ``derive`` adds the clusters to a copy of the evaluation data as a feature.
"""

from errlens.slicing.clusters.derive import with_clusters
from errlens.slicing.clusters.describe import Clusters

__all__ = ["Clusters", "with_clusters"]
