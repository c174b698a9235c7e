"""Zoning proposals: DOM collaborators' changesets to the Plan Regulador, validated,
reviewed, approved and applied as a new zoning version.

- :mod:`gis.proposals.operations`: the edits (create, reshape, norms, split, merge, delete)
  applied to a working copy of the zoning;
- :mod:`gis.proposals.validation`: partition, norms and policy checks;
- :mod:`gis.proposals.store`: persistence, workflow, optimistic concurrency, apply;
- :mod:`gis.proposals.diff` and :mod:`gis.proposals.impact`: what changes, and for whom.
"""
