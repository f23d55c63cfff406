"""The Docker setup, checked without a Docker engine: parse and cross-check.

Over 400 lines: one cross-check per promise the stack makes, read as one list.

compose/docker-compose.yml, compose/Dockerfile and .dockerignore are read as
data and checked against the code they run: every ``feynman ...`` command
must parse in the real click group, every ``FEYNMAN_*`` variable must be a
setting, health checks must probe routes the apps really serve, and secrets
may only come from the environment.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import stat
import subprocess
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
import faust
import pytest
import yaml

from feynman.cli import cli
from foundation.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "compose" / "docker-compose.yml"
DOCKERFILE = ROOT / "compose" / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"

IMAGE = "feynman-pipeline:local"
PIPELINE_SERVICES = ("topics", "worker", "api")
SECRET_NAME = re.compile(r"KEY|SECRET|PASSWORD|TOKEN|CREDENTIAL", re.IGNORECASE)
# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}
REFERENCE = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")
SHELL_SEPARATORS = {";", "&&", "||", "|", "&"}


# --- reading the files ------------------------------------------------------


def load_compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(data, dict), "the compose file is not a mapping"
    return data


COMPOSE = load_compose()
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]


def interpolate(value: str) -> str:
    """Compose's interpolation with an empty host environment: defaults apply, ``$$`` is ``$``."""
    marker = "\x00"
    value = value.replace("$$", marker)

    def sub(match: re.Match[str]) -> str:
        op = match.group("op") or ""
        return match.group("arg") if op.endswith("-") else ""

    return REFERENCE.sub(sub, value).replace(marker, "$")


def environment(service: str) -> dict[str, str]:
    """The service's environment as written (uninterpolated), list or mapping form."""
    env = SERVICES[service].get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
    return {
        str(k): ("" if v is None else str(v).lower() if isinstance(v, bool) else str(v))
        for k, v in env.items()
    }


def argv(command: str | list[str] | None) -> list[str]:
    if command is None:
        return []
    return shlex.split(command) if isinstance(command, str) else [str(part) for part in command]


def shell_script(tokens: list[str]) -> str | None:
    if len(tokens) == 3 and Path(tokens[0]).name in {"sh", "bash", "dash"} and tokens[1] == "-c":
        return tokens[2]
    return None


def simple_commands(script: str) -> list[list[str]]:
    lexer = shlex.shlex(script, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    commands: list[list[str]] = [[]]
    for word in lexer:
        if word in SHELL_SEPARATORS:
            commands.append([])
        else:
            commands[-1].append(word)
    return [c for c in commands if c]


def feynman_args(tokens: list[str]) -> list[str] | None:
    """The arguments after ``feynman`` in a command, also inside ``sh -c '... exec feynman ...'``."""
    if tokens[:1] == ["feynman"]:
        return tokens[1:]
    script = shell_script(tokens)
    if script is None:
        return None
    for words in simple_commands(interpolate(script)):
        if words[:1] == ["exec"]:
            words = words[1:]
        if words[:1] == ["feynman"]:
            return words[1:]
    return None


def feynman_commands() -> dict[str, list[str]]:
    found = {}
    for name, service in SERVICES.items():
        args = feynman_args(argv(service.get("entrypoint")) + argv(service.get("command")))
        if args is not None:
            found[name] = args
    return found


def resolve(args: list[str]) -> click.Command:
    """Walk the click groups as ``feynman ARGS`` would and parse the leaf's options.

    Raises click's UsageError (unknown command, unknown option, bad value)
    without running anything.
    """
    command: click.Command = cli
    ctx: click.Context | None = None
    name, rest = "feynman", list(args)
    while isinstance(command, click.Group):
        ctx = click.Context(command, info_name=name, parent=ctx)
        if not rest:
            raise click.UsageError(f"{ctx.command_path} needs a subcommand", ctx)
        name, *rest = rest
        sub = command.get_command(ctx, name)
        if sub is None:
            raise click.UsageError(f"no command {name!r} in {ctx.command_path}", ctx)
        command = sub
    with command.make_context(name, rest, parent=ctx, resilient_parsing=False):
        pass
    return command


def dockerfile_stages() -> list[list[tuple[str, str]]]:
    """The Dockerfile's instructions, (KEYWORD, rest), grouped by FROM."""
    logical, current = [], ""
    for raw in DOCKERFILE.read_text().splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        logical.append(current + line)
        current = ""
    stages: list[list[tuple[str, str]]] = []
    for line in logical:
        keyword, _, rest = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            stages.append([])
        elif not stages:
            continue
        stages[-1].append((keyword, rest.strip()))
    return stages


def exec_form(value: str) -> list[str]:
    parsed = json.loads(value)
    assert isinstance(parsed, list) and all(isinstance(p, str) for p in parsed), f"not exec form: {value}"
    return parsed


def healthcheck_python(service: str) -> str:
    test = SERVICES[service]["healthcheck"]["test"]
    assert isinstance(test, list) and test[0] == "CMD", f"{service}: healthcheck should be exec form"
    assert test[1:3] == ["python", "-c"], f"{service}: healthcheck should be `python -c` (slim has no curl)"
    return test[3]


def url_in(code: str) -> str:
    match = re.search(r"""['"](https?://[^'"]+)['"]""", code)
    assert match, f"no URL in {code!r}"
    return match.group(1)


# --- the compose file -------------------------------------------------------


def test_the_compose_file_has_services_and_no_obsolete_version_key() -> None:
    assert "version" not in COMPOSE
    assert {"kafka", *PIPELINE_SERVICES} <= set(SERVICES)


def test_topics_worker_and_api_run_feynman_commands() -> None:
    commands = feynman_commands()
    assert commands.get("topics") == ["topics", "create"]
    assert commands.get("worker", [])[:1] == ["worker"]
    assert commands.get("api", [])[:1] == ["api"]


@pytest.mark.parametrize("service", sorted(feynman_commands()))
def test_every_feynman_command_in_the_compose_file_exists_with_its_options(service: str) -> None:
    args = feynman_commands()[service]
    try:
        command = resolve(args)
    except click.UsageError as exc:
        pytest.fail(f"{service}: `feynman {' '.join(args)}` does not parse: {exc.format_message()}")
    assert not isinstance(command, click.Group)


def test_the_command_resolver_rejects_unknown_commands_and_options() -> None:
    for args in (["topics"], ["topics", "delete"], ["worker", "--bogus"], ["api", "--port", "eighty"]):
        with pytest.raises(click.UsageError):
            resolve(args)


def test_every_service_has_a_healthcheck_or_is_a_one_shot_that_is_not_restarted() -> None:
    for name, service in SERVICES.items():
        healthcheck = service.get("healthcheck")
        if healthcheck and not healthcheck.get("disable"):
            assert healthcheck.get("test"), f"{name}: empty healthcheck"
            continue
        restart = str(service.get("restart", "no"))
        assert restart == "no" or restart.startswith("on-failure"), (
            f"{name} has no healthcheck, so it must be a one-shot (restart no/on-failure), not {restart!r}"
        )


def test_the_topics_job_runs_once_after_kafka_is_healthy() -> None:
    topics = SERVICES["topics"]
    assert topics.get("restart") == "no"
    assert "healthcheck" not in topics
    assert topics["depends_on"]["kafka"]["condition"] == "service_healthy"


def test_the_worker_waits_for_a_healthy_kafka_and_successfully_created_topics() -> None:
    depends = SERVICES["worker"]["depends_on"]
    assert isinstance(depends, dict), "depends_on needs the long form to carry conditions"
    assert depends["kafka"]["condition"] == "service_healthy"
    assert depends["topics"]["condition"] == "service_completed_successfully"


def test_the_api_waits_for_kafka_the_topics_and_the_worker_with_conditions() -> None:
    depends = SERVICES["api"]["depends_on"]
    assert isinstance(depends, dict), "depends_on needs the long form to carry conditions"
    assert depends["kafka"]["condition"] == "service_healthy"
    assert depends["topics"]["condition"] == "service_completed_successfully"
    assert depends["worker"]["condition"] in {"service_started", "service_healthy"}


def test_every_dependency_names_a_service_of_the_file() -> None:
    for name, service in SERVICES.items():
        for dependency in service.get("depends_on") or {}:
            assert dependency in SERVICES, f"{name} depends on unknown service {dependency}"


def test_pipeline_services_share_one_image_built_once_from_the_repository_root() -> None:
    builders = [name for name in PIPELINE_SERVICES if "build" in SERVICES[name]]
    assert builders == ["topics"], "exactly one service builds the image; the others reuse it"
    build = SERVICES["topics"]["build"]
    assert (COMPOSE_FILE.parent / build["context"]).resolve() == ROOT
    assert (ROOT / build["dockerfile"]).resolve() == DOCKERFILE
    for name in PIPELINE_SERVICES:
        assert SERVICES[name]["image"] == IMAGE
        if name not in builders:
            assert SERVICES[name].get("pull_policy") == "never", (
                f"{name} must not pull {IMAGE} from a registry"
            )


def test_kafka_is_one_official_kraft_node_without_topic_auto_creation() -> None:
    kafka = SERVICES["kafka"]
    assert kafka["image"] == "apache/kafka:4.1.1"
    env = environment("kafka")
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"].startswith(f"{env['KAFKA_NODE_ID']}@")
    assert env["KAFKA_CONTROLLER_LISTENER_NAMES"] in env["KAFKA_LISTENERS"]
    for name in (
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR",
        "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR",
        "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR",
    ):
        assert env[name] == "1", name
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert "kafka-broker-api-versions.sh" in " ".join(kafka["healthcheck"]["test"])


def test_kafka_keeps_its_log_in_a_named_volume() -> None:
    env = environment("kafka")
    mounts = {m.split(":")[1]: m.split(":")[0] for m in SERVICES["kafka"]["volumes"]}
    volume = mounts[env["KAFKA_LOG_DIRS"]]
    assert volume in (COMPOSE.get("volumes") or {})


def test_pipeline_services_reach_kafka_on_an_advertised_listener() -> None:
    advertised = environment("kafka")["KAFKA_ADVERTISED_LISTENERS"].split(",")
    addresses = {entry.split("://", 1)[1] for entry in advertised}
    for name in PIPELINE_SERVICES:
        bootstrap = interpolate(environment(name)["FEYNMAN_KAFKA_BOOTSTRAP"])
        assert set(bootstrap.split(",")) <= addresses, f"{name}: {bootstrap} is not advertised by kafka"


def test_pipeline_services_agree_on_kafka_and_the_topic_settings() -> None:
    shared = (
        "FEYNMAN_ENV",
        "FEYNMAN_KAFKA_BOOTSTRAP",
        "FEYNMAN_TOPIC_PREFIX",
        "FEYNMAN_TOPIC_PARTITIONS",
        "FEYNMAN_REPLICATION_FACTOR",
    )
    values = {name: {k: environment(name).get(k) for k in shared} for name in PIPELINE_SERVICES}
    assert values["worker"] == values["topics"] == values["api"]


def test_every_feynman_variable_in_the_compose_file_is_a_setting() -> None:
    known = {f"FEYNMAN_{field.upper()}" for field in Settings.model_fields}
    for name in PIPELINE_SERVICES:
        unknown = {k for k in environment(name) if k.startswith("FEYNMAN_")} - known
        assert not unknown, f"{name} sets variables no setting reads: {sorted(unknown)}"


@pytest.mark.parametrize("service", PIPELINE_SERVICES)
def test_each_pipeline_environment_with_its_defaults_is_valid_configuration(
    service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in list(os.environ):
        if key.startswith("FEYNMAN_"):
            monkeypatch.delenv(key)
    for key, value in environment(service).items():
        monkeypatch.setenv(key, interpolate(value))
    settings = Settings()
    assert settings.env == "production"
    assert settings.bootstrap_servers


def test_the_mode_defaults_to_production_and_comes_from_the_environment() -> None:
    for name in PIPELINE_SERVICES:
        assert environment(name)["FEYNMAN_ENV"] == "${FEYNMAN_ENV:-production}"


def test_the_api_refuses_to_start_without_its_keys_and_session_secret() -> None:
    env = environment("api")
    for name in ("FEYNMAN_API_KEYS", "FEYNMAN_UI_SESSION_SECRET"):
        match = REFERENCE.fullmatch(env[name])
        assert match and match.group("op") == ":?", f"{name}: compose must stop when it is unset"
        assert "compose/.env" in match.group("arg"), f"{name}: the error says where to set it"


def test_the_env_example_names_every_secret_the_stack_reads_and_holds_none() -> None:
    example = (ROOT / "compose" / ".env.example").read_text()
    lines = dict(
        line.split("=", 1) for line in example.splitlines() if line.strip() and not line.startswith("#")
    )
    read = {
        m.group("name")
        for service in SERVICES
        for value in environment(service).values()
        for m in REFERENCE.finditer(value)
        if SECRET_NAME.search(m.group("name"))
    }
    assert read <= set(lines), f"missing from compose/.env.example: {sorted(read - set(lines))}"
    assert all("replace-with" in value for value in lines.values())


def test_api_keys_come_only_from_the_environment() -> None:
    value = environment("api")["FEYNMAN_API_KEYS"]
    match = REFERENCE.fullmatch(value)
    assert match and match.group("name") == "FEYNMAN_API_KEYS", value
    assert (match.group("arg") or "").strip() in {"", "[]"} or match.group("op") in {"?", ":?"}
    for name in set(SERVICES) - {"api"}:
        for keys in ("FEYNMAN_API_KEYS", "FEYNMAN_API_KEYS_WRITE", "FEYNMAN_API_KEYS_READ"):
            assert keys not in environment(name), f"{name} has no use for the API keys"


def test_no_service_holds_a_literal_secret() -> None:
    for name in SERVICES:
        for key, value in environment(name).items():
            if not SECRET_NAME.search(key):
                continue
            match = REFERENCE.fullmatch(value)
            assert match, f"{name}: {key} must be a ${{...}} reference, not a literal"
            if match.group("op") in {"-", ":-"}:
                assert match.group("arg").strip() in {"", "[]"}, f"{name}: {key} has a literal default"


def test_the_api_serves_on_all_interfaces_on_its_published_port() -> None:
    api = SERVICES["api"]
    args = feynman_commands()["api"]
    assert args[args.index("--host") + 1] == "0.0.0.0"
    port = (
        args[args.index("--port") + 1] if "--port" in args else str(Settings.model_fields["api_port"].default)
    )
    assert any(str(p).split(":")[-1] == port for p in api["ports"])


def test_the_api_asks_the_worker_service_for_task_status() -> None:
    url = urlsplit(environment("api")["FEYNMAN_WORKER_URL"])
    assert url.hostname == "worker" and "worker" in SERVICES
    assert str(url.port) == environment("worker")["FEYNMAN_WORKER_WEB_PORT"]


def test_the_worker_binds_all_interfaces_and_starts_with_one_replica() -> None:
    env = environment("worker")
    assert env["FEYNMAN_WORKER_BIND"] == "0.0.0.0"
    assert "FEYNMAN_WORKER_HOST" not in env, "a fixed host would give every replica the same canonical URL"
    assert SERVICES["worker"]["deploy"]["replicas"] == 1
    assert "ports" not in SERVICES["worker"], "published worker ports would forbid --scale worker=N"


def test_each_worker_advertises_its_own_hostname_unless_told_otherwise(tmp_path: Path) -> None:
    script = shell_script(argv(SERVICES["worker"]["command"]))
    assert script is not None, "the worker command should be `sh -c '...'`"
    if not Path("/etc/hostname").is_file():
        pytest.skip("this machine has no /etc/hostname to stand in for a container's")
    fake = tmp_path / "feynman"
    fake.write_text('#!/bin/sh\necho "$FEYNMAN_WORKER_HOST $*"\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    base_env = {"PATH": f"{tmp_path}:/usr/bin:/bin"}

    def run(env: dict[str, str]) -> str:
        done = subprocess.run(
            ["sh", "-c", interpolate(script)], env=env, capture_output=True, text=True, timeout=10, check=True
        )
        return done.stdout.strip()

    hostname = Path("/etc/hostname").read_text().strip()
    assert run(base_env) == f"{hostname} worker"
    assert run({**base_env, "FEYNMAN_WORKER_HOST": "w1.example"}) == "w1.example worker"


def test_the_worker_healthcheck_probes_the_worker_health_route() -> None:
    code = healthcheck_python("worker")
    compile(code, "worker-healthcheck", "exec")
    url = urlsplit(url_in(code))
    assert url.hostname in {"127.0.0.1", "localhost"}
    assert str(url.port) == environment("worker")["FEYNMAN_WORKER_WEB_PORT"]
    from streams import health

    app = faust.App("compose-healthcheck-probe", broker="kafka://localhost:1")
    health.install(app)
    assert url.path in app.web.views


def test_the_api_healthcheck_probes_the_api_health_route() -> None:
    from producers.app import create_app

    code = healthcheck_python("api")
    compile(code, "api-healthcheck", "exec")
    url = urlsplit(url_in(code))
    assert url.hostname in {"127.0.0.1", "localhost"}
    args = feynman_commands()["api"]
    assert str(url.port) == args[args.index("--port") + 1]
    # The OpenAPI paths, since FastAPI keeps included routers' routes out of app.routes.
    paths = create_app(Settings(env="development")).openapi()["paths"]
    assert url.path in paths


# --- the Dockerfile ---------------------------------------------------------


def test_the_image_is_built_on_python_3_11_slim() -> None:
    for stage in dockerfile_stages():
        base = stage[0][1].split()[0]
        assert base == "python:3.11-slim", base


def test_the_image_runs_as_a_non_root_user() -> None:
    final = dockerfile_stages()[-1]
    users = [rest for keyword, rest in final if keyword == "USER"]
    assert users, "the final stage sets no USER"
    assert users[-1].split(":")[0] not in {"root", "0"}


def test_the_image_installs_the_project_with_no_extras_so_no_dev_dependencies() -> None:
    runs = " ".join(rest for stage in dockerfile_stages() for keyword, rest in stage if keyword == "RUN")
    assert re.search(r"pip install\s+\.(\s|$)", runs)
    assert not re.findall(r"\.\[([^\]]*)\]", runs), "extras would pull in more than the runtime needs"
    assert not re.search(r"pytest|ruff|requirements-dev|--group\s+dev", runs)


def test_the_image_copies_every_package_setuptools_installs() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = [p.rstrip("*") for p in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]]
    copies = " ".join(rest for stage in dockerfile_stages() for keyword, rest in stage if keyword == "COPY")
    for name in [*packages, "pyproject.toml", pyproject["project"]["readme"]]:
        assert re.search(rf"(^|\s){re.escape(name)}/?(\s|$)", copies), f"the Dockerfile does not COPY {name}"


def test_the_image_default_command_exists_in_the_cli() -> None:
    final = dockerfile_stages()[-1]
    entrypoint = [exec_form(rest) for keyword, rest in final if keyword == "ENTRYPOINT"]
    cmd = [exec_form(rest) for keyword, rest in final if keyword == "CMD"]
    command = (entrypoint[-1] if entrypoint else []) + (cmd[-1] if cmd else [])
    assert command[:1] == ["feynman"], command
    resolve(command[1:])


def test_the_scripts_entry_point_is_named_feynman() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert pyproject["project"]["scripts"]["feynman"] == "feynman.cli:main"


# --- the build context ------------------------------------------------------


def test_the_build_context_leaves_out_secrets_and_local_environments() -> None:
    patterns = {
        line.strip()
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".env", ".git", ".venv"} <= patterns


def test_the_build_context_keeps_what_the_image_copies() -> None:
    patterns = [
        line.strip()
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    needed = ["pyproject.toml", "README.md", "feynman", "schemas", "producers", "streams", "compose"]
    for name in needed:
        assert name not in patterns and f"/{name}" not in patterns, f".dockerignore drops {name}"
