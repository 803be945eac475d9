"""Starting `streamlake serve|demo` from the server-level tests and reading what it prints."""
import re
import subprocess
import threading


def start(cmd, ready_text, cwd=None, timeout=90):
    """Runs `cmd`; returns (proc, lines) once a line contains `ready_text`. Every line of
    stdout and stderr keeps being appended to `lines` while the process runs."""
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    lines = []
    ready = threading.Event()

    def drain():
        for raw in proc.stdout:
            lines.append(raw.decode("utf-8", "replace").rstrip("\n"))
            if ready_text in lines[-1]:
                ready.set()
        ready.set()

    threading.Thread(target=drain, daemon=True).start()
    assert ready.wait(timeout), f"{cmd[1]} did not start: {lines}"
    assert proc.poll() is None, f"{cmd[1]} exited: {lines}"
    return proc, lines


def listening_port(lines, what="http"):
    """The port of the `streamlake: listening http=…` (or pg=…) line."""
    port = next((int(m.group(1)) for l in lines for m in [re.search(what + r"=[0-9.]+:(\d+)", l)] if m), None)
    assert port, f"no listening {what} line: {lines}"
    return port
