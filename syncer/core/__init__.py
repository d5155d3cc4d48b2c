"""The core: what a cycle decides, and the ports it speaks through.

Model, rules (evaluate, closure, deadlines), plan, the one applier, the Tracker protocol,
the policy models, input-file loading and secret redaction. It imports nothing of
syncer.service, syncer.cli, syncer.state or connectors, no tracker library and no
scheduler, and never reads the system clock (``clock.system_clock`` is passed in by the
layers above). The import contracts in pyproject.toml check this (``lint-imports``).
"""
