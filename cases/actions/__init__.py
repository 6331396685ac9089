"""Everything that changes cases. One module per area: ``cases`` (patients, cases, wound sites),
``photos`` and ``measurements``, ``alerts``, ``forms`` and ``links``."""
