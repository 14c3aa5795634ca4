"""A real `switchyard serve --demo` for the black-box tests, started once per session.

The gateway runs the already-built binary (`target/debug/switchyard`, or `$SWITCHYARD_BIN`)
over a fresh data dir. Before it starts, the CLI creates two users:

* `broke`: $0 balance, so every priced request is refused with `insufficient_quota`;
* `limited`: $1 balance, with a key that may use only `gpt-4o-mini`.

The root user gets the demo's $100 and the key given in `SWITCHYARD_ROOT_KEY`.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from openai import OpenAI

REPO = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Gateway:
    url: str
    root_key: str
    broke_key: str
    limited_key: str
    data_dir: Path
    log_path: Path

    def client(self, key: str | None = None, **kw) -> OpenAI:
        """An OpenAI SDK client on this gateway; no retries, so errors surface at once."""
        return OpenAI(
            base_url=f"{self.url}/v1",
            api_key=key or self.root_key,
            max_retries=0,
            timeout=kw.pop("timeout", 30.0),
            **kw,
        )


def _binary() -> Path:
    path = Path(os.environ.get("SWITCHYARD_BIN") or REPO / "target" / "debug" / "switchyard")
    if not path.is_file() or not os.access(path, os.X_OK):
        pytest.exit(
            f"switchyard binary not found at {path}: run `cargo build -p switchyard` "
            "(or set SWITCHYARD_BIN)",
            returncode=2,
        )
    return path


def _clean_env() -> dict[str, str]:
    """The caller's environment without any SWITCHYARD_* setting that could point the
    gateway elsewhere (another database, a config file, a fixed listen address)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHYARD_")}
    env["NO_COLOR"] = "1"
    env["SWITCHYARD_LOG"] = os.environ.get("SWITCHYARD_LOG", "info")
    return env


def _cli(binary: Path, env: dict[str, str], *args: str) -> str:
    proc = subprocess.run(
        [str(binary), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if proc.returncode != 0:
        raise RuntimeError(
            f"`switchyard {' '.join(args)}` exited with {proc.returncode}\n"
            f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
        )
    return proc.stdout


def _create_key(binary: Path, env: dict[str, str], data_dir: Path, *args: str) -> str:
    out = _cli(binary, env, "key", "create", *args, "--data-dir", str(data_dir))
    keys = [line.strip() for line in out.splitlines() if line.strip().startswith("sk-")]
    assert len(keys) == 1, f"expected one sk- key on stdout, got: {out!r}"
    return keys[0]


def _read_listen_line(proc: subprocess.Popen, deadline: float) -> str:
    """The URL from `switchyard listening on http://ADDR` (the first stdout line)."""
    found: list[str] = []

    def reader() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            if not found and line.startswith("switchyard listening on "):
                found.append(line.split("switchyard listening on ", 1)[1].strip())
            # Keep draining so the child never blocks on a full pipe.

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    while time.monotonic() < deadline:
        if found:
            return found[0]
        if proc.poll() is not None:
            raise RuntimeError(f"the gateway exited with {proc.returncode} during startup")
        time.sleep(0.05)
    raise RuntimeError(f"the gateway did not print its listen address within {STARTUP_TIMEOUT_S:.0f}s")


def _server_log(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError as e:
        return f"(could not read {path}: {e})"


_GATEWAY: Gateway | None = None


def start_gateway(binary: Path, env: dict[str, str], data_dir: Path, log, log_path: Path):
    """`switchyard serve --demo` on a free port, once /healthz answers 200: (process, URL).
    Fails the test with the gateway's stderr if it does not come up."""
    proc = subprocess.Popen(
        [str(binary), "serve", "--demo", "--listen", "127.0.0.1:0", "--data-dir", str(data_dir)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        url = _read_listen_line(proc, deadline).rstrip("/")
        assert url.startswith("http://127.0.0.1:"), url
        last_error = "no answer yet"
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the gateway exited with {proc.returncode} during startup")
            try:
                r = httpx.get(f"{url}/healthz", timeout=2.0)
                if r.status_code == 200:
                    return proc, url
                last_error = f"HTTP {r.status_code}: {r.text[:200]}"
            except httpx.HTTPError as e:
                last_error = repr(e)
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"/healthz not ready within {STARTUP_TIMEOUT_S:.0f}s ({last_error})"
                )
            time.sleep(0.1)
    except BaseException as e:
        proc.kill()
        proc.wait(timeout=10)
        log.close()
        pytest.fail(
            f"could not start the gateway: {e}\n--- gateway stderr ---\n{_server_log(log_path)}",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def gateway(tmp_path_factory: pytest.TempPathFactory):
    global _GATEWAY
    binary = _binary()
    env = _clean_env()
    data_dir = tmp_path_factory.mktemp("switchyard-data")
    log_path = data_dir.parent / "switchyard.stderr.log"

    _cli(binary, env, "user", "create", "--name", "broke", "--balance-usd", "0",
         "--data-dir", str(data_dir))
    broke_key = _create_key(binary, env, data_dir, "--user", "broke")
    _cli(binary, env, "user", "create", "--name", "limited", "--balance-usd", "1",
         "--data-dir", str(data_dir))
    limited_key = _create_key(binary, env, data_dir, "--user", "limited",
                              "--models", "gpt-4o-mini")

    root_key = "sk-test-root-" + secrets.token_hex(16)
    server_env = dict(env, SWITCHYARD_ROOT_KEY=root_key)
    log = open(log_path, "w")
    proc, url = start_gateway(binary, server_env, data_dir, log, log_path)

    _GATEWAY = Gateway(url, root_key, broke_key, limited_key, data_dir, log_path)
    try:
        yield _GATEWAY
    finally:
        died = proc.poll()
        if died is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        log.close()
        if died is not None:
            pytest.fail(
                f"the gateway died during the tests (exit {died})\n--- gateway stderr ---\n"
                f"{_server_log(log_path)}",
                pytrace=False,
            )


@pytest.fixture(scope="session")
def client(gateway: Gateway) -> OpenAI:
    """The root user's client ($100 of demo money, every model)."""
    return gateway.client()


def _print_gateway_log(terminalreporter, exitstatus) -> None:
    """When anything failed, show what the gateway logged: the reason is often there."""
    if _GATEWAY is None or exitstatus == 0:
        return
    terminalreporter.section("switchyard gateway stderr")
    terminalreporter.write_line(_server_log(_GATEWAY.log_path))


_SKIPPED: list[str] = []


def pytest_runtest_logreport(report):
    if report.skipped:
        _SKIPPED.append(report.nodeid)


def pytest_sessionfinish(session, exitstatus):
    """A skipped test is a test that did not run: the suite must not pass quietly without it."""
    if _SKIPPED and exitstatus == 0:
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if _SKIPPED:
        terminalreporter.section("skipped tests fail the suite")
        for nodeid in _SKIPPED:
            terminalreporter.write_line(nodeid)
    _print_gateway_log(terminalreporter, exitstatus)
