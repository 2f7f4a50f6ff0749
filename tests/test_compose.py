"""docker-compose.yml, services/Dockerfile and .env.example, checked offline.

`docker-compose config` (Debian's docker-compose 1.29, installed by `make test` through
devtools/system-packages.sh) validates and renders the compose file without a Docker daemon;
the rendered configuration is then checked for what the deployment relies on.
"""
from __future__ import annotations

import base64
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from suite_common import gunicorn_conf
from suite_common.app import MAX_REQUEST_BYTES
from suite_common.gunicorn_worker import REQUEST_READ_TIMEOUT

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
PORTS = {"registration": 8001, "notifications": 8002, "certificates": 8003}
REQUIRED = {
    "POSTGRES_PASSWORD": "pg-" + "p" * 40,
    "SECRET_KEY": "sk-" + "s" * 40,
    "SERVICE_KEYS_REGISTRATION": "rk-" + "r" * 40,
    "SERVICE_KEYS_NOTIFICATIONS": "nk-" + "n" * 40,
    "SERVICE_KEYS_CERTIFICATES": "ck-" + "c" * 40,
    "INTEGRATIONS_KEY": base64.urlsafe_b64encode(b"i" * 32).decode(),  # a Fernet key: 32 bytes, URL-safe base64
}


def docker_compose() -> str:
    path = shutil.which("docker-compose")
    if path is None:
        pytest.fail(
            "docker-compose is not installed; run `make test`, which installs it "
            "(devtools/system-packages.sh)", pytrace=False,
        )
    return path


def run_compose(variables: dict[str, str], tmp: Path, *args: str,
                env_file: Path | None = None) -> subprocess.CompletedProcess[str]:
    """docker-compose in a clean environment: only PATH, HOME and ``variables``. An empty
    --env-file keeps a developer's own .env (with real secrets, perhaps) out of the test."""
    if env_file is None:
        env_file = tmp / "empty.env"
        env_file.write_text("")
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(tmp), **variables}
    return subprocess.run(
        [docker_compose(), "--project-directory", str(ROOT), "--env-file", str(env_file),
         "-f", str(COMPOSE_FILE), *args],
        env=env, capture_output=True, text=True, timeout=60, cwd=tmp,
    )


def reported_missing(result: subprocess.CompletedProcess[str]) -> str:
    """The variable compose names in its error (the ``set NAME ...`` message of ``${NAME:?...}``).
    docker-compose 1.29 also dumps the uninterpolated mapping, which mentions every name."""
    lines = (result.stderr + result.stdout).strip().splitlines()
    assert lines, "docker-compose failed without a message"
    message = lines[-1].rsplit(": ", 1)[-1]
    match = re.match(r"set (\w+)", message)
    assert match, f"unexpected message: {lines[-1]}"
    return match.group(1)


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    result = run_compose(REQUIRED, tmp_path_factory.mktemp("compose"), "config")
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


def dockerfile_instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, rest = (pending + line).partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
        pending = ""
    return instructions


def final_stage(instructions: list[tuple[str, str]]) -> list[tuple[str, str]]:
    last_from = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    return instructions[last_from:]


def depends_on(service: dict[str, Any]) -> dict[str, str]:
    return {name: spec.get("condition", "") for name, spec in service.get("depends_on", {}).items()}


# --- the compose file is valid, and its secrets come from the environment ---

def test_compose_file_is_valid_with_the_required_variables(tmp_path: Path) -> None:
    result = run_compose(REQUIRED, tmp_path, "config", "-q")
    assert result.returncode == 0, result.stderr


def test_compose_refuses_to_start_without_the_secrets(tmp_path: Path) -> None:
    result = run_compose({"POSTGRES_PASSWORD": REQUIRED["POSTGRES_PASSWORD"]}, tmp_path, "config", "-q")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr + result.stdout
    assert reported_missing(result) in REQUIRED


@pytest.mark.parametrize("missing", sorted(REQUIRED))
def test_each_required_variable_is_required(tmp_path: Path, missing: str) -> None:
    variables = {name: value for name, value in REQUIRED.items() if name != missing}
    result = run_compose(variables, tmp_path, "config", "-q")
    assert result.returncode != 0, f"compose accepted a configuration without {missing}"
    assert reported_missing(result) == missing


def test_an_empty_secret_counts_as_missing(tmp_path: Path) -> None:
    result = run_compose({**REQUIRED, "SECRET_KEY": ""}, tmp_path, "config", "-q")
    assert result.returncode != 0
    assert reported_missing(result) == "SECRET_KEY"


def test_env_example_lists_every_variable_and_is_enough(tmp_path: Path) -> None:
    used = set(re.findall(r"\$\{(\w+)", COMPOSE_FILE.read_text()))
    listed = set(re.findall(r"^(\w+)=", ENV_EXAMPLE.read_text(), flags=re.MULTILINE))
    assert used - listed == set(), "variables docker-compose.yml reads that .env.example does not list"
    assert listed - used == set(), "variables in .env.example that docker-compose.yml does not read"
    assert "secrets.token_urlsafe" in ENV_EXAMPLE.read_text()
    result = run_compose({}, tmp_path, "config", "-q", env_file=ENV_EXAMPLE)
    assert result.returncode == 0, result.stderr


# --- what the rendered configuration promises ---

def test_secrets_reach_every_service_from_the_environment(config: dict[str, Any]) -> None:
    for name in PORTS:
        for service in (name, f"{name}-migrate"):
            environment = config["services"][service]["environment"]
            assert environment["SUITE_ENV"] == "production"
            for variable in ("SECRET_KEY", "SERVICE_KEYS_REGISTRATION", "SERVICE_KEYS_NOTIFICATIONS",
                             "SERVICE_KEYS_CERTIFICATES"):
                assert environment[variable] == REQUIRED[variable], (service, variable)


@pytest.mark.parametrize("name", sorted(PORTS))
def test_service_has_its_own_postgres_database_and_migrates_first(config: dict[str, Any], name: str) -> None:
    services = config["services"]
    service, migrate = services[name], services[f"{name}-migrate"]

    url = urlsplit(service["environment"]["DATABASE_URL"])
    assert url.scheme == "postgresql+psycopg"
    assert url.hostname == "postgres"
    assert url.password == REQUIRED["POSTGRES_PASSWORD"]
    assert url.path == f"/{name}"
    assert migrate["environment"]["DATABASE_URL"] == service["environment"]["DATABASE_URL"]

    assert depends_on(service) == {"postgres": "service_healthy", f"{name}-migrate": "service_completed_successfully"}
    assert depends_on(migrate) == {"postgres": "service_healthy"}
    assert migrate["command"] == ["flask", "--app", name, "db", "upgrade"]
    assert migrate["restart"] == "no"
    assert migrate["image"] == service["image"]
    assert migrate["build"] == service["build"]
    assert "ports" not in migrate


@pytest.mark.parametrize("name", sorted(PORTS))
def test_service_addresses_and_ports(config: dict[str, Any], name: str) -> None:
    service = config["services"][name]
    environment = service["environment"]
    for other, port in PORTS.items():
        assert environment[f"{other.upper()}_URL"] == f"http://{other}:{port}"
    assert environment["PUBLIC_BASE_URL"] == f"http://localhost:{PORTS[name]}"
    assert service["build"]["args"] == {"SERVICE": name, "PORT": str(PORTS[name])}
    assert [int(port) for port in service["expose"]] == [PORTS[name]]
    assert "ports" not in service, "a fixed host port prevents --scale; the proxy publishes it"
    assert "container_name" not in service, "a fixed container name prevents --scale"
    assert environment["TRUSTED_PROXIES"] == "1", "the proxy's X-Forwarded-For names the client"


def nginx_servers(conf: str) -> dict[int, tuple[str, str]]:
    """listen port: (the name the server's variable holds, the proxy_pass target), per server block."""
    servers = {}
    for block in re.findall(r"server\s*\{(.*?)\n    \}", conf, flags=re.DOTALL):
        listen = re.search(r"^\s*listen (\d+);", block, flags=re.MULTILINE)
        variable = re.search(r"^\s*set \$(\w+) (\S+);", block, flags=re.MULTILINE)
        target = re.search(r"^\s*proxy_pass http://(\S+);", block, flags=re.MULTILINE)
        assert listen and variable and target, block
        servers[int(listen[1])] = (variable[2], target[1].replace(f"${variable[1]}", variable[2]))
    return servers


def test_only_the_proxy_publishes_ports_so_every_service_scales(config: dict[str, Any]) -> None:
    """`docker compose up --scale registration=3` works as the file stands: no service but the proxy
    binds a host port, and the proxy resolves each service name (every replica) while it runs."""
    publishing = {name for name, service in config["services"].items() if service.get("ports")}
    assert publishing == {"proxy"}
    proxy = config["services"]["proxy"]
    assert {int(p["published"]): int(p["target"]) for p in proxy["ports"]} == {port: port for port in PORTS.values()}
    assert set(depends_on(proxy)) == set(PORTS)
    mounts = [v if isinstance(v, str) else f"{v['source']}:{v['target']}:ro" for v in proxy["volumes"]]
    assert mounts == [f"{ROOT / 'deploy' / 'proxy' / 'nginx.conf'}:/etc/nginx/nginx.conf:ro"]

    conf = (ROOT / "deploy" / "proxy" / "nginx.conf").read_text()
    # Docker's DNS, asked again while running: a name in a variable is not resolved once at start.
    assert re.search(r"^\s*resolver 127\.0\.0\.11 valid=\d+s", conf, flags=re.MULTILINE)
    assert nginx_servers(conf) == {port: (name, f"{name}:{port}") for name, port in PORTS.items()}
    assert re.search(r"^\s*proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;", conf, flags=re.MULTILINE)
    assert re.search(r"^\s*access_log off;", conf, flags=re.MULTILINE), "no attendee addresses in proxy logs"


def nginx_http_settings(conf: str) -> dict[str, str]:
    """The proxy's directives at the level of its http block (outside server blocks): name -> value."""
    http = re.search(r"^http \{(.*)^\}", conf, flags=re.DOTALL | re.MULTILINE)
    assert http
    top_level = re.sub(r"\n    (server|map)\b[^{]*\{.*?\n    \}", "", http[1], flags=re.DOTALL)
    return dict(re.findall(r"^    (\w+) ([^;]*);", top_level, flags=re.MULTILINE))


def test_the_proxy_buffers_requests_and_drops_slow_clients() -> None:
    """Slow clients wait in nginx: it passes on only whole requests, takes whole responses, and drops a
    client that trickles its head or body, no later than the services' own worker would (10 s)."""
    settings = nginx_http_settings((ROOT / "deploy" / "proxy" / "nginx.conf").read_text())
    assert settings["proxy_request_buffering"] == settings["proxy_buffering"] == "on"
    seconds = {name: int(settings[name].removesuffix("s")) for name in (
        "client_header_timeout", "client_body_timeout", "send_timeout", "keepalive_timeout")}
    assert seconds["client_header_timeout"] <= REQUEST_READ_TIMEOUT
    assert seconds["client_body_timeout"] <= REQUEST_READ_TIMEOUT
    assert 0 < seconds["send_timeout"] <= 60 and 0 < seconds["keepalive_timeout"] <= 75
    assert settings["reset_timedout_connection"] == "on"
    # A request line gunicorn accepts (limit_request_line) fits in one of nginx's header buffers.
    number, size = settings["large_client_header_buffers"].split()
    assert int(number) >= 2 and int(size.removesuffix("k")) * 1024 >= gunicorn_conf.limit_request_line + 2
    assert settings["client_max_body_size"] == f"{MAX_REQUEST_BYTES // 2**20}m"


def test_postgres_creates_the_three_databases_and_keeps_its_data(config: dict[str, Any]) -> None:
    postgres = config["services"]["postgres"]
    assert postgres["image"] == "postgres:15"
    assert postgres["environment"]["POSTGRES_PASSWORD"] == REQUIRED["POSTGRES_PASSWORD"]
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert "ports" not in postgres
    volumes = [v if isinstance(v, str) else f"{v['source']}:{v['target']}" for v in postgres["volumes"]]
    assert any(v.startswith("postgres-data:/var/lib/postgresql/data") for v in volumes)
    assert "postgres-data" in config["volumes"]
    init = [v for v in volumes if ":/docker-entrypoint-initdb.d" in v]
    assert len(init) == 1
    init_dir = Path(init[0].split(":", 1)[0])
    assert init_dir == ROOT / "deploy" / "postgres-init"
    sql = (init_dir / "01-databases.sql").read_text()
    for name in PORTS:
        assert re.search(rf"CREATE DATABASE {name};", sql)


# --- the images ---

def test_every_dockerfile_the_compose_file_builds_exists(config: dict[str, Any]) -> None:
    built = {name: service["build"] for name, service in config["services"].items() if "build" in service}
    assert set(built) == set(PORTS) | {f"{name}-{role}" for name in PORTS for role in ("migrate", "worker")}
    for name, build in built.items():
        dockerfile = Path(build["context"]) / build.get("dockerfile", "Dockerfile")
        assert dockerfile.is_file(), f"{name}: {dockerfile} does not exist"
        assert Path(build["context"]) == ROOT, "the build context is the repository root"


def test_the_dockerfile_builds_a_production_gunicorn_image(config: dict[str, Any]) -> None:
    dockerfiles = {Path(s["build"]["context"]) / s["build"]["dockerfile"] for s in config["services"].values()
                   if "build" in s}
    assert dockerfiles == {ROOT / "services" / "Dockerfile"}, "one shared Dockerfile for the three services"
    instructions = dockerfile_instructions(ROOT / "services" / "Dockerfile")
    text = "\n".join(f"{keyword} {rest}" for keyword, rest in instructions)
    assert "ARG PYTHON_IMAGE=python:3.11-slim" in text
    assert all(rest.split()[0] in ("${PYTHON_IMAGE}", "python:3.11-slim")
               for keyword, rest in instructions if keyword == "FROM")
    assert re.search(r"pip install -r \S*requirements\.txt", text)
    assert re.search(r"pip install --no-deps \S*services/common \S*services/\$\{SERVICE\}", text)
    assert not re.search(r"pip install[^\n]* -e ", text), "packages are installed non-editable"

    runtime = final_stage(instructions)
    keywords = [keyword for keyword, _ in runtime]
    for keyword in ("USER", "EXPOSE", "HEALTHCHECK", "CMD"):
        assert keywords.count(keyword) == 1, keyword
    settings = dict(runtime)
    assert settings["USER"].split(":")[0] not in ("root", "0")
    assert settings["EXPOSE"] == "${PORT}"
    assert "/healthz" in settings["HEALTHCHECK"] and '"python"' in settings["HEALTHCHECK"]
    assert "curl" not in settings["HEALTHCHECK"]
    env = " ".join(rest for keyword, rest in runtime if keyword == "ENV")
    assert "SUITE_ENV=production" in env
    assert "BIND=0.0.0.0:${PORT}" in env
    assert "exec gunicorn -c python:suite_common.gunicorn_conf" in settings["CMD"]
    assert "create_app()" in settings["CMD"]


def test_dockerignore_keeps_local_state_and_secrets_out_of_the_build_context() -> None:
    patterns = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")}
    for pattern in (".git", ".venv", "var", "tests", ".env", "**/__pycache__", "**/*.egg-info",
                    ".pytest_cache", ".ruff_cache"):
        assert pattern in patterns, pattern


def test_each_service_has_a_worker_running_its_background_loop(config: dict[str, Any]) -> None:
    for name in PORTS:
        worker = config["services"][f"{name}-worker"]
        assert worker["command"] == ["flask", "--app", name, "worker"]
        assert worker["environment"]["DATABASE_URL"].endswith(f"@postgres:5432/{name}")
        assert "ports" not in worker, "workers serve no port, so they scale freely"
        assert worker["depends_on"][f"{name}-migrate"]["condition"] == "service_completed_successfully"
