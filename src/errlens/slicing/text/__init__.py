"""Text slices: the words of declared text columns as binary "contains" features.

- :mod:`~errlens.slicing.text.tokens`: how a text is split into words (one rule for the
  vocabulary, the in-memory masks and the engines' string-contains predicates);
- :mod:`~errlens.slicing.text.stream`: the tokens of many texts as integer arrays (Arrow);
- :mod:`~errlens.slicing.text.vocabulary`: the terms of a column and their sparse row matrix;
- :mod:`~errlens.slicing.text.table`: per-term statistics and the screening of candidates;
- :mod:`~errlens.slicing.text.counts`: the discovery's cell counts over segments and terms;
- :mod:`~errlens.slicing.text.discover`: discovery over tabular features and terms together.
"""
