"""Prometheus and Grafana in the compose stack, checked without Docker: files exist, parse, agree.

The scrape targets must be routes the API and the worker really serve, the
dashboard must use the provisioned datasource, and every metric it queries
must be one the code exports (or one the worker is due to export, listed here).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import faust
import yaml
from prometheus_client.core import Metric

from foundation.settings import Settings
from producers.app import create_app
from producers.metrics import ApiMetrics
from producers.webview.metrics import ReadModelCollector
from producers.webview.read_model import ReadModel
from streams import health
from streams.task_metrics import TaskMetrics
from tests.compose.test_docker_compose import COMPOSE_FILE, SERVICES, environment, feynman_commands

COMPOSE_DIR = COMPOSE_FILE.parent
PROMQL_BUILTINS = {"sum", "by", "rate", "histogram_quantile", "max", "delta", "le"}


def mounts(service: str) -> dict[str, Path]:
    """Container path → host path of the service's bind mounts (relative to the compose file)."""
    out = {}
    for volume in SERVICES[service].get("volumes", []):
        source, target, *_ = str(volume).split(":")
        if source.startswith("."):
            out[target] = (COMPOSE_DIR / source).resolve()
    return out


def load(path: Path) -> Any:
    assert path.exists(), f"{path} is missing"
    return json.loads(path.read_text()) if path.suffix == ".json" else yaml.safe_load(path.read_text())


def test_prometheus_and_grafana_run_with_their_config_files_mounted() -> None:
    assert {"prometheus", "grafana"} <= set(SERVICES)
    for service in ("prometheus", "grafana"):
        for target, source in mounts(service).items():
            assert source.exists(), f"{service} mounts {source} at {target}, and it does not exist"
    assert "/etc/prometheus/prometheus.yml" in mounts("prometheus")
    assert "/etc/grafana/provisioning" in mounts("grafana")


def test_prometheus_scrapes_the_api_and_worker_metrics_routes() -> None:
    config = load(mounts("prometheus")["/etc/prometheus/prometheus.yml"])
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    api = jobs["feynman-api"]
    [target] = api["static_configs"][0]["targets"]
    args = feynman_commands()["api"]
    assert target == f"api:{args[args.index('--port') + 1]}"
    assert api["metrics_path"] in create_app(Settings(env="development")).openapi()["paths"]
    # The key file the entrypoint writes is the one the scrape config reads.
    [key_file] = api["http_headers"]["X-API-Key"]["files"]
    assert key_file in " ".join(SERVICES["prometheus"]["entrypoint"])

    worker = jobs["feynman-worker"]
    [sd] = worker["dns_sd_configs"]
    assert sd["names"] == ["worker"] and str(sd["port"]) == environment("worker")["FEYNMAN_WORKER_WEB_PORT"]
    app = faust.App("compose-metrics-probe", broker="kafka://localhost:1")
    health.install(app)
    assert worker["metrics_path"] in app.web.views


def test_grafana_provisions_the_prometheus_service_and_the_dashboard_folder() -> None:
    provisioning = mounts("grafana")["/etc/grafana/provisioning"]
    [datasource] = load(provisioning / "datasources" / "prometheus.yml")["datasources"]
    assert datasource["type"] == "prometheus"
    assert datasource["url"] == "http://prometheus:9090"
    assert any(str(p).endswith(":9090") for p in SERVICES["prometheus"]["ports"])
    [provider] = load(provisioning / "dashboards" / "feynman.yml")["providers"]
    assert provider["options"]["path"] in mounts("grafana")


def dashboards() -> list[dict[str, Any]]:
    folder = mounts("grafana")["/var/lib/grafana/dashboards"]
    found = [load(path) for path in sorted(folder.glob("*.json"))]
    assert found, f"no dashboard in {folder}"
    return found


def exported_metric_names() -> set[str]:
    families: list[Metric] = list(ReadModelCollector(ReadModel.from_settings(Settings())).collect())
    families.extend(ApiMetrics().registry.collect())  # families are listed even before any sample
    app = faust.App("compose-metrics-names", broker="kafka://localhost:1")
    probe = health.install(app)
    families.extend(health.LivenessCollector(probe).collect())
    families.extend(TaskMetrics().collect())
    names = set()
    for family in families:
        names.add(family.name)
        if family.type == "counter":
            names.add(f"{family.name}_total")
        if family.type == "histogram":
            names |= {f"{family.name}_{suffix}" for suffix in ("bucket", "sum", "count")}
    return names


def test_the_dashboard_uses_the_provisioned_datasource_and_only_metrics_that_exist() -> None:
    known = exported_metric_names()
    [datasource] = load(mounts("grafana")["/etc/grafana/provisioning"] / "datasources" / "prometheus.yml")[
        "datasources"
    ]
    for dashboard in dashboards():
        titles = " ".join(p["title"].lower() for p in dashboard["panels"])
        for topic in ("latency", "lag", "dead letters", "per second"):
            assert topic in titles, f"the dashboard has no {topic} panel"
        for panel in dashboard["panels"]:
            for target in panel["targets"]:
                assert target["datasource"]["uid"] == datasource["uid"], panel["title"]
                metrics = {
                    name
                    for name in re.findall(
                        r"[a-z_][a-z0-9_]*", re.sub(r"\{\{?[^}]*\}?\}|\[[^]]*\]", "", target["expr"])
                    )
                    if name.startswith("feynman_")
                }
                assert metrics, f"{panel['title']}: no feynman metric in {target['expr']}"
                unknown = metrics - known
                assert not unknown, f"{panel['title']}: no code exports {sorted(unknown)}"
