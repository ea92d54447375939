"""Suspect samples: rows whose given label is probably wrong, with the cause of each flag."""
