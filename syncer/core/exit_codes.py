"""The exit codes every pmsync command shares, and which one wins when several apply.

CI jobs and cron wrappers branch on these, so they are few, distinct and the same for every
command (``pmsync --help`` and the README's "Commands" section list them):

- 0 ``OK``: everything asked for was done (a dry run: planned).
- 1 ``FINDINGS``: what was asked to fail on was found: rule violations with
  ``--fail-on-violations``, lint findings with ``--strict``, a permission pmsync lacks.
- 2 ``BAD_INPUT``: a policy, items file, incident record or argument is invalid (an items
  file without a single valid item included); nothing was evaluated.
- 3 ``TRACKER_FAILED``: a write failed or a tracker could not be read; the log line names
  the request and the tracker's own message. It is retried next cycle.
- 4 ``WORK_LEFT``: work waits for a later cycle because of the write budget, a rate limit or
  a lost leadership; nothing failed, and the next cycle carries on.

When several apply the most serious wins, in the order 2, 3, 1, 4, 0: bad input means nothing
ran; a failure means the trackers are not as intended; findings are what the caller asked to
fail on; work left for later finishes by itself.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FINDINGS = 1
    BAD_INPUT = 2
    TRACKER_FAILED = 3
    WORK_LEFT = 4


PRECEDENCE: tuple[ExitCode, ...] = (
    ExitCode.BAD_INPUT,
    ExitCode.TRACKER_FAILED,
    ExitCode.FINDINGS,
    ExitCode.WORK_LEFT,
    ExitCode.OK,
)

EPILOG = (
    "exit codes (every command):\n"
    "  0  done\n"
    "  1  findings asked to fail on (--fail-on-violations, lint --strict, a missing permission)\n"
    "  2  bad input (policy, items file without a valid item, incident record, argument)\n"
    "  3  a write failed or a tracker could not be read (retried next cycle)\n"
    "  4  work left for a later cycle by the write budget or a rate limit\n"
    "  when several apply: 2 before 3 before 1 before 4 before 0"
)


def worst(*codes: int) -> ExitCode:
    """The code that wins among ``codes`` (``OK`` when none is given)."""
    present = {ExitCode(code) for code in codes}
    return next((code for code in PRECEDENCE if code in present), ExitCode.OK)
