"""compose.yaml, the Dockerfile and .dockerignore agree with what the processes expect.

The image itself is built and run by bench/image.sh (podman, no registry needed; docs/deploy.md
has what it showed). These are the parts that can drift without a build breaking: a stop period
shorter than a worker's shutdown grace, a service that starts before the migration, an image that
runs as root or cannot be pointed at another base.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from app.config import Settings

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def _services() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]


def _seconds(duration: str) -> float:
    """A compose duration ("30s", "1m30s") in seconds."""
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", duration)
    assert parts and "".join(number + unit for number, unit in parts) == duration, duration
    units = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
    return sum(float(number) * units[unit] for number, unit in parts)


def test_a_worker_is_given_longer_to_stop_than_its_own_grace():
    worker = _services()["worker"]
    default = Settings.model_fields["shutdown_grace_seconds"].default
    grace = float(worker.get("environment", {}).get("REPOSTER_SHUTDOWN_GRACE_SECONDS", default))
    # the margin covers cancelling, giving the leases back and closing the pool after the grace
    assert _seconds(worker["stop_grace_period"]) >= grace + 10


def test_the_api_and_the_workers_start_after_the_migration_from_one_image_and_env_file():
    services = _services()
    migrate = services["migrate"]
    assert migrate["command"] == ["migrate"] and migrate["restart"] == "no"
    assert migrate["depends_on"] == {"db": {"condition": "service_healthy"}}
    for name in ("api", "worker"):
        assert services[name]["depends_on"] == {"migrate": {"condition": "service_completed_successfully"}}
    for name in ("migrate", "api", "worker"):
        assert services[name]["env_file"] == ".env"
        assert services[name]["init"] is True  # SIGTERM reaches reposter even while Python starts
        assert services[name]["image"] == services["api"]["image"]
    assert services["api"]["command"] == ["serve"] and services["worker"]["command"] == ["worker"]
    assert services["worker"]["deploy"]["replicas"] == 2


def test_the_api_health_check_asks_readyz_on_the_port_the_image_serves():
    check = " ".join(_services()["api"]["healthcheck"]["test"])
    assert "http://127.0.0.1:8000/readyz" in check
    assert re.search(r"^EXPOSE 8000$", DOCKERFILE, re.MULTILINE)
    assert Settings.model_fields["port"].default == 8000


def test_the_image_runs_as_a_numeric_user_that_is_not_root():
    users = re.findall(r"^USER (\S+)$", DOCKERFILE, re.MULTILINE)
    uid = users[-1].split(":")[0]
    assert uid.isdigit() and uid != "0"


def test_every_stage_builds_on_the_base_image_argument():
    assert re.search(r"^ARG BASE_IMAGE=\S+", DOCKERFILE, re.MULTILINE)
    stages = re.findall(r"^FROM (\S+)", DOCKERFILE, re.MULTILINE)
    assert stages and set(stages) == {"${BASE_IMAGE}"}


def test_the_build_context_lets_through_what_the_dockerfile_copies():
    kept = {line[1:].rstrip("/") for line in (ROOT / ".dockerignore").read_text().splitlines() if line.startswith("!")}
    copied = set()
    for line in re.findall(r"^COPY (?!--from)(.+)$", DOCKERFILE, re.MULTILINE):
        copied.update(item.rstrip("/") for item in line.split()[:-1])
    assert copied and copied <= kept


def test_compose_yaml_keeps_to_what_the_compose_specification_defines():
    """What Docker Compose v2 refuses and podman-compose lets pass (bench/compose_v2.sh runs the file
    under Compose v2 itself, `docker compose config` included; this is the part CI can check)."""
    document = yaml.safe_load((ROOT / "compose.yaml").read_text())
    top = {"name", "services", "networks", "volumes", "secrets", "configs", "include"}
    assert {key for key in document if not key.startswith("x-")} <= top
    assert re.fullmatch(r"[a-z0-9][a-z0-9_-]*", document["name"])  # Compose v2's project name rule
    conditions = {"service_started", "service_healthy", "service_completed_successfully"}
    for name, service in document["services"].items():
        assert re.fullmatch(r"[a-zA-Z0-9][a-zA-Z0-9_.-]+", name)
        for dependency, how in service.get("depends_on", {}).items():
            assert dependency in document["services"] and how["condition"] in conditions, (name, dependency)
        restart = service.get("restart", "no")
        assert restart in ("no", "always", "unless-stopped") or re.fullmatch(r"on-failure(:\d+)?", restart)
        for key in ("stop_grace_period",):
            if key in service:
                _seconds(service[key])
        if "healthcheck" in service:
            check = service["healthcheck"]
            assert check["test"][0] in ("CMD", "CMD-SHELL", "NONE")
            for key in ("interval", "timeout", "start_period"):
                _seconds(check[key])
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            assert source.startswith((".", "/")) or source in document["volumes"], volume
        assert isinstance(service.get("init", False), bool)
        # `deploy.replicas` scales with `docker compose up`; a fixed container_name would forbid it
        assert "container_name" not in service or "replicas" not in service.get("deploy", {})
