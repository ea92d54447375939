"""Slice discovery: the exact SliceLine search and its readable results.

- :mod:`~errlens.slicing.discovery.search`: the search over any :class:`CellCounts` source
  (:func:`search_counts`, the counting seam the engines use) and in memory (:func:`find_slices`);
- :mod:`~errlens.slicing.discovery.count`: in-memory counting per cell (``np.bincount``);
- :mod:`~errlens.slicing.discovery.lattice`: candidate cells, scores and their upper bounds;
- :mod:`~errlens.slicing.discovery.result`: the ranked slices found (``DiscoveredSlices``).

The search's public names are re-exported here (the search imports nothing above numpy):

>>> from errlens.slicing.discovery import search_counts
>>> search_counts.__module__
'errlens.slicing.discovery.search'
"""

from errlens.slicing.discovery.search import (
    CellCounts,
    FoundSlice,
    Progress,
    SliceSearch,
    find_slices,
    search_counts,
    slice_mask,
)

__all__ = [
    "CellCounts", "FoundSlice", "Progress", "SliceSearch", "find_slices", "search_counts",
    "slice_mask",
]
