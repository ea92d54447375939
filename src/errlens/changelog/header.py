"""The header line of a changelog: what makes it one, and the label schema it starts from.

>>> header_problem({"type": "header", "format": "errlens-changelog", "schema_version": 1,
...                 "dataset": {"fingerprint": "sha256:00"}, "classes": [{"name": "cat"}]})
>>> header_problem({"type": "header", "format": "something-else"})
'it is not an errlens changelog header'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from errlens.changelog.errors import ChangelogError, CorruptLogError, DatasetMismatchError
from errlens.changelog.events import SCHEMA_VERSION
from errlens.changelog.schema import LabelSchema

if TYPE_CHECKING:
    from errlens.changelog.dataset import Dataset

FORMAT = "errlens-changelog"


def header_problem(obj: Any) -> str | None:
    """What is wrong with a header object (None if nothing), fingerprint aside."""
    if not isinstance(obj, dict) or obj.get("type") != "header" or obj.get("format") != FORMAT:
        return "it is not an errlens changelog header"
    if obj.get("schema_version") != SCHEMA_VERSION:
        return (f"schema version {obj.get('schema_version')!r} is not supported (this errlens "
                f"reads {SCHEMA_VERSION}); upgrade errlens")
    ds = obj.get("dataset")
    if not isinstance(ds, dict) or not isinstance(ds.get("fingerprint"), str):
        return "the header has no dataset fingerprint, so no dataset can be checked against it"
    try:
        LabelSchema.from_json(obj.get("classes"))
    except ChangelogError as exc:
        return str(exc)
    return None


def header_schema(path: str, obj: Any, dataset: Dataset | None = None) -> LabelSchema:
    """The label schema of a header line, after checking its format, version and (given a
    dataset) fingerprint."""
    problem = header_problem(obj)
    if problem is not None:
        raise CorruptLogError(f"{path} line 1: {problem}")
    ds = obj["dataset"]
    if dataset is not None and ds.get("fingerprint") != dataset.fingerprint:
        raise DatasetMismatchError(
            f"{path} was written for another dataset ({ds.get('n_samples')} samples, "
            f"fingerprint {str(ds.get('fingerprint'))[:19]}...) but the labels given have "
            f"{len(dataset.original)} samples (fingerprint "
            f"{dataset.fingerprint[:19]}...). Open it with the same original labels "
            f"and ids, or choose a new path for this dataset")
    return LabelSchema.from_json(obj["classes"])
