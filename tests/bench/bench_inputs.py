"""Hostile and large input files through ``pmsync``: wall time, peak memory, exit code.

Each case runs ``pmsync`` as a child process on a generated file (a 10 MB policy, a YAML
alias bomb, deep nesting, a binary file, a 10 MB items export, a legitimate policy just under
the size limit) and prints the child's wall time, its peak resident memory (``ru_maxrss``)
and the first line it wrote to stderr. A baseline (``check-config`` of the example policy)
shows what the interpreter and the imports cost on their own. Children are stopped after
``--timeout`` seconds and capped at ``--memory-mb`` of address space, so the script is also
safe to run against a version of pmsync that does not bound its input.

    .venv/bin/python tests/bench/bench_inputs.py [--timeout 20] [--memory-mb 2048]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
POLICY = REPO / "config" / "pmsync.example.yaml"
ITEMS = REPO / "config" / "examples" / "items.json"
PMSYNC = Path(sys.executable).with_name("pmsync")


def big_policy(target: int) -> str:
    """The example policy with an exempt label list long enough to reach ``target`` bytes."""
    text = POLICY.read_text("utf-8")
    count = target // 28
    labels = "\n".join(f"    - exempt-label-{n:09d}" for n in range(count))
    return text.replace("exempt_labels: [pmsync/exempt]", "exempt_labels:\n" + labels)


def alias_bomb(levels: int = 9) -> str:
    lines = ["version: '1'", 'x-0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for n in range(1, levels + 1):
        lines.append(f"x-{n}: &l{n} [" + ", ".join([f"*l{n - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n" + f"scope: {{exempt_labels: *l{levels}}}\n"


def big_items(target: int) -> str:
    data = json.loads(ITEMS.read_text("utf-8"))
    template, out = data["items"], []
    size, n = 0, 0
    while size < target:
        for item in template:
            n += 1
            copy = json.loads(json.dumps(item))
            copy["ref"]["key"] = f"acme/api#{n}"
            out.append(copy)
            size += len(json.dumps(copy, indent=2))
    return json.dumps({"items": out}, indent=2)


def run(argv: list[str], timeout: float, memory_mb: int) -> tuple[float, int, int | str, str]:
    """(wall seconds, peak RSS KB, exit code or 'killed', first stderr line) of one child."""

    def limit() -> None:
        cap = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    started = time.monotonic()
    with tempfile.TemporaryFile() as err:
        child = subprocess.Popen(
            [str(PMSYNC), *argv],
            stdout=subprocess.DEVNULL,
            stderr=err,
            preexec_fn=limit,  # noqa: PLW1509 - this script starts no threads
        )
        code: int | str = ""
        while True:
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                code = os.waitstatus_to_exitcode(status)
                break
            if time.monotonic() - started > timeout:
                child.kill()
                _, status, usage = os.wait4(child.pid, 0)
                code = f"killed at {timeout:.0f} s"
                break
            time.sleep(0.01)
        elapsed = time.monotonic() - started
        child.returncode = -1  # reaped above; keeps Popen from waiting again
        err.seek(0)
        first = err.read().decode("utf-8", "replace").strip().splitlines()[:1]
    return elapsed, usage.ru_maxrss, code, (first[0][:110] if first else "")


def in_process(path: Path) -> tuple[float, int, str]:
    """(seconds, peak bytes allocated, first problem or 'ok') of loading a policy file."""
    from syncer.core.config_loader import load_model_file
    from syncer.core.errors import ConfigError
    from syncer.core.policy import Policy

    tracemalloc.start()
    started = time.perf_counter()
    try:
        load_model_file(Policy, path)
        outcome = "ok"
    except ConfigError as exc:
        outcome = exc.problems[0].replace(str(path), path.name)
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return seconds, peak, outcome


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds per child")
    parser.add_argument("--memory-mb", type=int, default=2048, help="address space per child")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)

        def file(name: str, make: Callable[[], str | bytes]) -> str:
            content = make()
            path = root / name
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
            return str(path)

        cases = [
            ("baseline: check-config of the example policy", ["check-config", str(POLICY)]),
            (
                "10 MB policy",
                ["check-config", file("policy-10mb.yaml", lambda: big_policy(10_000_000))],
            ),
            (
                "policy just under 1 MiB (legitimate, parsed)",
                ["check-config", file("policy-1mb.yaml", lambda: big_policy(1_000_000))],
            ),
            (
                "YAML alias bomb (9 levels, 9**9 values)",
                ["check-config", file("bomb.yaml", alias_bomb)],
            ),
            (
                "block nesting 500 deep",
                [
                    "check-config",
                    file(
                        "deep.yaml",
                        lambda: (
                            "version: '1'\n"
                            + "".join(f"{'  ' * i}a:\n" for i in range(500))
                            + "  " * 500
                            + "b\n"
                        ),
                    ),
                ],
            ),
            (
                "binary file",
                ["check-config", file("binary.yaml", lambda: bytes(range(256)) * 64)],
            ),
            (
                "10 MB items export (legitimate, parsed)",
                [
                    "plan",
                    "--config",
                    str(POLICY),
                    "--now",
                    "2026-11-23T09:00:00Z",
                    "--json",
                    "--items",
                    file("items-10mb.json", lambda: big_items(10_000_000)),
                ],
            ),
        ]
        print("pmsync as a child process (peak MB is the whole process's resident memory)")
        print(f"{'case':50} {'wall s':>7} {'peak MB':>8} {'exit':>8}  first stderr line")
        for title, argv in cases:
            elapsed, rss_kb, code, first = run(argv, args.timeout, args.memory_mb)
            print(f"{title:50} {elapsed:7.2f} {rss_kb / 1024:8.1f} {code!s:>8}  {first}")
        print("\nthe loader alone, in this process (Python allocations, tracemalloc)")
        print(f"{'case':50} {'s':>7} {'peak MB':>8}  outcome")
        for title, argv in cases[1:6]:
            seconds, peak, outcome = in_process(Path(argv[-1]))
            print(f"{title:50} {seconds:7.3f} {peak / 1e6:8.2f}  {outcome[:110]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
