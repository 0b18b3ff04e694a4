"""A gdlab process for the test suites: started on port 0, its port read from the line it logs
("listening on http://HOST:PORT/"), stopped with a signal, and its exit status checked (under the
sanitizers a leak or an error report makes a clean stop exit non-zero)."""
import os
import re
import signal
import subprocess
import tempfile
import time

START_TIMEOUT_S = 30.0


class GdlabProcess:
    """The process alone; the suites' Server classes add their own ways of talking HTTP."""

    def __init__(self, binary, extra_args=(), env=None, preexec_fn=None, log_prefix="gdlab-"):
        self.args = [binary, "--port", "0", "--threads", "2", *extra_args]
        self.env = dict(os.environ, **(env or {}))
        self.preexec_fn = preexec_fn
        self.log_prefix = log_prefix
        self.proc = None
        self.port = None
        self.log = None

    def start(self):
        """Start and wait for the port; RuntimeError with the log when it exits or hangs."""
        self.log = tempfile.NamedTemporaryFile(prefix=self.log_prefix, suffix=".log",
                                               delete=False)
        self.proc = subprocess.Popen(self.args, stdout=subprocess.DEVNULL, stderr=self.log,
                                     env=self.env, preexec_fn=self.preexec_fn)
        deadline = time.monotonic() + START_TIMEOUT_S
        while self.port is None:
            if self.proc.poll() is not None:
                text = self.log_text()
                os.unlink(self.log.name)
                raise RuntimeError("gdlab exited at start-up:\n" + text)
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("gdlab did not start:\n" + self.log_text())
            m = re.search(r"listening on http://\S+:(\d+)/", self.log_text())
            if m:
                self.port = int(m.group(1))
            else:
                time.sleep(0.02)

    def log_text(self):
        with open(self.log.name, "r", encoding="utf-8", errors="replace") as f:
            return f.read()

    def stop(self, sig=signal.SIGTERM, timeout=60):
        """Signal the process and wait; its exit status (it is killed after timeout)."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise
        return self.proc.returncode if self.proc else None

    def finish(self, exc_type):
        """Stop, remove the log, and fail a test that passed when the exit was not clean."""
        code = self.stop()
        text = self.log_text()
        os.unlink(self.log.name)
        if exc_type is None and code != 0:
            raise AssertionError("gdlab exited with %s:\n%s" % (code, text[-4000:]))
