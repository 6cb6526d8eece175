"""What can be checked of the deploy without Docker (issue 29 point 10): compose.yaml
parses and runs the Procfile's commands on the image the Dockerfile builds; every COPY
source exists; the image installs the hash-locked runtime set and runs as a non-root user;
requirements.lock pins exactly requirements.txt's versions, each with hashes, and nothing
of the dev or Spark sets; nginx carries the caps the bot relies on; .dockerignore keeps the
virtualenv, git and stores out."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import fields
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parent.parent
IMAGE_PLATFORM = {"platform_machine": "x86_64", "sys_platform": "linux", "os_name": "posix"}


# ------------------------------------------------------------ a small YAML reader
def _scalar(text: str):
    text = text.strip()
    if text.startswith("[") or text.startswith("{"):
        return json.loads(text)
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    return text if text else None


def parse_block_yaml(text: str):
    """The block-style YAML compose.yaml is written in (mappings, lists of scalars, JSON
    flow lists); anything else is an error, so the file stays this simple."""
    lines = []
    for raw in text.splitlines():
        stripped = raw.split(" #")[0].rstrip() if not raw.lstrip().startswith("#") else ""
        if stripped.strip():
            lines.append((len(stripped) - len(stripped.lstrip()), stripped.strip()))

    def block(i: int, indent: int):
        if lines[i][1].startswith("- "):
            items = []
            while i < len(lines) and lines[i][0] == indent and lines[i][1].startswith("- "):
                item = lines[i][1][2:]
                if re.match(r"^[\w.-]+:(\s|$)", item):
                    raise ValueError(f"mapping inside a list: {item!r}")
                items.append(_scalar(item))
                i += 1
            return items, i
        mapping: dict = {}
        while i < len(lines) and lines[i][0] == indent:
            key, sep, rest = lines[i][1].partition(":")
            if not sep or key.startswith("- "):
                raise ValueError(f"not a mapping line: {lines[i][1]!r}")
            key = _scalar(key)
            if key in mapping:
                raise ValueError(f"duplicate key {key!r}")
            i += 1
            if rest.strip():
                mapping[key] = _scalar(rest)
            elif i < len(lines) and lines[i][0] > indent:
                mapping[key], i = block(i, lines[i][0])
            else:
                mapping[key] = None
        return mapping, i

    doc, end = block(0, lines[0][0])
    if end != len(lines):
        raise ValueError(f"unparsed from line {lines[end][1]!r}")
    return doc


@pytest.fixture(scope="module")
def compose() -> dict:
    return parse_block_yaml((REPO / "compose.yaml").read_text())


def procfile() -> dict[str, list[str]]:
    entries = {}
    for line in (REPO / "Procfile").read_text().splitlines():
        if line.strip():
            name, _, command = line.partition(":")
            entries[name.strip()] = shlex.split(command)
    return entries


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = (REPO / "Dockerfile").read_text().replace("\\\n", " ")
    out = []
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            word, _, rest = line.strip().partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def pins(path: Path) -> dict[str, str]:
    """name -> version for every `name==version` that applies to the image's platform."""
    found = {}
    for line in path.read_text().splitlines():
        line = line.split(" #")[0].strip().rstrip("\\").strip()
        if not line or line.startswith(("#", "-", "--")):
            continue
        req = Requirement(line)
        if req.marker is not None and not req.marker.evaluate(IMAGE_PLATFORM):
            continue
        (spec,) = req.specifier
        assert spec.operator == "==", line
        found[canonicalize_name(req.name)] = spec.version
    return found


# ------------------------------------------------------------------ the tests
def test_the_yaml_reader_refuses_what_it_does_not_read():
    assert parse_block_yaml("a:\n  b: 1\n  c:\n    - x\n    - 'y'\n") == {
        "a": {"b": "1", "c": ["x", "y"]}
    }
    for bad in ("a: 1\na: 2\n", "a:\n  - b: 1\n", "just text\n"):
        with pytest.raises(ValueError):
            parse_block_yaml(bad)


def test_compose_names_the_services_and_runs_the_procfile_commands(compose):
    services = compose["services"]
    assert set(services) == {"db", "migrate", "web", "clock", "proxy"}
    proc = procfile()
    assert set(proc) == {"release", "web", "clock"}
    assert services["migrate"]["command"] == proc["release"]
    assert services["clock"]["command"] == proc["clock"]
    web = services["web"]["command"]
    assert web[: len(proc["web"])] == proc["web"]  # plus where it listens
    port = web[web.index("--port") + 1]
    assert services["web"]["expose"] == [port]
    for name in ("migrate", "web", "clock"):
        service = services[name]
        assert service["image"] == services["migrate"]["image"]
        assert service["environment"]["DATABASE_URL"].startswith("postgresql+psycopg://")
        assert "@db:5432/" in service["environment"]["DATABASE_URL"]
    assert services["migrate"]["build"] == "."
    assert services["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"
    for name in ("web", "clock"):
        after = services[name]["depends_on"]["migrate"]["condition"]
        assert after == "service_completed_successfully"
    assert "pgdata" in compose["volumes"]


def test_the_proxy_is_nginx_with_the_deploy_config_pointed_at_web(compose):
    proxy = compose["services"]["proxy"]
    assert proxy["image"].startswith("nginx:")
    (mount,) = proxy["volumes"]
    source, target, mode = mount.split(":")
    assert (REPO / source).resolve() == (REPO / "deploy" / "nginx.conf").resolve()
    assert (target, mode) == ("/etc/nginx/nginx.conf", "ro")
    web = compose["services"]["web"]["command"]
    conf = (REPO / "deploy" / "nginx.conf").read_text()
    assert f"server web:{web[web.index('--port') + 1]};" in conf
    listen = re.search(r"listen (\d+);", conf).group(1)
    assert proxy["ports"][0].endswith(f":{listen}")


def _directive(conf: str, name: str) -> str:
    found = re.findall(rf"^\s*{name}\s+([^;]+);", conf, flags=re.M)
    assert found, f"{name} missing from deploy/nginx.conf"
    return found[0].strip()


def test_nginx_buffers_requests_and_caps_what_a_client_can_hold():
    from bot.config import BotConfig

    conf = (REPO / "deploy" / "nginx.conf").read_text()
    defaults = {f.name: f.default for f in fields(BotConfig)}  # nginx must not exceed them
    sizes = {"k": 1024, "m": 1024 * 1024}

    def size(v: str) -> int:
        return int(v[:-1]) * sizes[v[-1].lower()] if v[-1].isalpha() else int(v)

    assert size(_directive(conf, "client_max_body_size")) <= defaults["max_body_bytes"]
    assert size(_directive(conf, "client_body_buffer_size")) >= size(
        _directive(conf, "client_max_body_size")
    )  # a whole body fits in memory: no temp files under a flood
    for timeout in ("client_body_timeout", "client_header_timeout"):
        assert int(_directive(conf, timeout).rstrip("s")) <= defaults["read_timeout_s"]
    assert _directive(conf, "proxy_request_buffering") == "on"
    limits = re.findall(r"^\s*limit_conn\s+(\w+)\s+(\d+);", conf, flags=re.M)
    zones = dict(limits)
    assert {"per_client", "all_clients"} <= set(zones), limits
    assert int(zones["per_client"]) < int(zones["all_clients"])
    assert "limit_conn_zone $binary_remote_addr zone=per_client" in conf
    access = _directive(conf, "access_log")
    assert "buffer=" in access and "if=$loggable" in access  # no line per refusal
    assert "408" in conf.split("map $status $loggable")[1].split("}")[0]
    assert _directive(conf, "error_log").split()[-1] in ("warn", "error")


def test_every_dockerfile_copy_source_exists_and_the_image_is_slim():
    steps = dockerfile_instructions()
    copies = [rest for word, rest in steps if word == "COPY"]
    assert copies
    for rest in copies:
        parts = [p for p in rest.split() if not p.startswith("--")]
        if "--from=" in rest:
            continue
        for source in parts[:-1]:
            assert (REPO / source).exists(), f"COPY {source}: not in the repository"
            assert not source.startswith(("tests", "benchmarks", ".venv"))
    runs = " ".join(rest for word, rest in steps if word == "RUN")
    assert "--require-hashes" in runs and "-r /tmp/requirements.lock" in runs
    assert "requirements-dev" not in runs and "requirements-spark" not in runs
    users = [rest for word, rest in steps if word == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert json.loads(next(rest for word, rest in reversed(steps) if word == "CMD")) == (
        ["python", "-m", "bot", "serve"]
    )
    assert all(rest.startswith("python:3.11") for word, rest in steps if word == "FROM")


def test_the_lock_pins_exactly_the_runtime_requirements_with_hashes():
    lock_text = (REPO / "requirements.lock").read_text()
    locked = pins(REPO / "requirements.lock")
    wanted = pins(REPO / "requirements.txt")
    for name, version in wanted.items():
        assert locked.get(name) == version, (name, version, locked.get(name))
    lines = lock_text.splitlines()
    for i, line in enumerate(lines):
        if "==" in line and not line[:1].isspace() and not line.startswith("#"):
            assert "--hash=sha256:" in lines[i + 1], line  # every pin carries its hashes
    dev_only = set(pins(REPO / "requirements-dev.txt")) - set(wanted)
    assert not dev_only & set(locked), dev_only & set(locked)
    assert "pyspark" not in locked


def test_dockerignore_keeps_the_venv_git_and_stores_out():
    ignored = {
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".git", ".venv", "*.db", ".env"} <= ignored
    copied = {
        rest.split()[0].rstrip("/")
        for word, rest in dockerfile_instructions()
        if word == "COPY" and "--from=" not in rest
    }
    assert not copied & {p.rstrip("/") for p in ignored}, copied
