"""The service: runs the core as a long-lived process.

The daemon loop (one scheduler, SIGTERM), its HTTP servers (health, metrics, webhooks),
settings from the environment, and wiring, which assembles core, connectors and the
state store into a runtime (the daemon and the commands share it). Imports the core,
report, postmortem, state and connectors; never the CLI.
"""
