"""Start JupyterLab or Notebook 7 on loopback with isolated settings, for browser tests."""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
LAB_SETTINGS = {
    # Without these a "Select Kernel" dialog blocks execution, off-screen cells never render,
    # and autosave writes outputs into the notebook under test.
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {
        "autoStartDefaultKernel": True,
        "windowingMode": "none",
    },
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}


def child_env(**extra: str) -> dict[str, str]:
    """This process's environment for a server it starts, with ``PYTHONPATH`` made absolute.

    The servers start kernels (or run notebooks) in another directory, where a relative entry
    such as the ``PYTHONPATH=src`` of a worktree's test command would find nothing and the
    kernel would import an installed errlens instead of the code under test.

    >>> child_env(PYTHONPATH="src")["PYTHONPATH"] == str(Path("src").resolve())
    True
    """
    env = {**os.environ, **extra}
    paths = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    if paths:
        env["PYTHONPATH"] = os.pathsep.join(str(Path(p).resolve()) for p in paths)
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class JupyterServer:
    """A running server; ``url(path)`` includes the token."""

    process: subprocess.Popen[bytes]
    port: int
    token: str
    root: Path
    app: str

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path}?token={self.token}"

    def stop(self) -> None:
        try:
            req = urllib.request.Request(
                f"http://127.0.0.1:{self.port}/api/shutdown",
                method="POST",
                headers={"Authorization": f"token {self.token}"},
            )
            urllib.request.urlopen(req, timeout=5).close()
        except OSError:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            # A known JupyterLab issue leaves a non-daemon thread: end our own process only.
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=10)


def start(app: str, root: Path, scratch: Path) -> JupyterServer:
    """Start ``app`` ("lab" or "notebook") serving ``root``; settings live under ``scratch``."""
    port, token = free_port(), secrets.token_hex(16)
    settings = scratch / "settings"
    for name, value in LAB_SETTINGS.items():
        path = settings / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))
    for sub in ("config", "runtime", "data", "workspaces"):
        (scratch / sub).mkdir(parents=True, exist_ok=True)
    env = child_env(
        JUPYTER_CONFIG_DIR=str(scratch / "config"),
        JUPYTER_RUNTIME_DIR=str(scratch / "runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(settings),
        JUPYTERLAB_WORKSPACES_DIR=str(scratch / "workspaces"),
    )
    app_class = "LabApp" if app == "lab" else "JupyterNotebookApp"
    command = [
        sys.executable, "-m", "jupyter", app, "--no-browser", "--allow-root",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0", f"--ServerApp.root_dir={root}",
        f"--IdentityProvider.token={token}", "--NotebookNotary.db_file=:memory:",
        f"--{app_class}.expose_app_in_browser=True",
        f"--{app_class}.user_settings_dir={settings}",
        f"--{app_class}.workspaces_dir={scratch / 'workspaces'}",
    ]
    log = open(scratch / f"{app}.log", "wb")  # noqa: SIM115 - kept open for the server's life
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = JupyterServer(process, port, token, root, app)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"jupyter {app} exited: {(scratch / f'{app}.log').read_text()}")
        try:
            with urllib.request.urlopen(server.url("api"), timeout=2) as reply:
                if reply.status == 200:
                    return server
        except OSError:
            time.sleep(0.3)
    server.stop()
    raise RuntimeError(f"jupyter {app} did not answer on port {port} within 60 s")
