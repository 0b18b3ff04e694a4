"""Docs that run: every curl command in the README's ```sh blocks is executed against a real
server (http://127.0.0.1:8080 replaced by its address) and its output checked.

The README's format: a command (continued with trailing backslashes) may be followed by lines that
start with "# ": its expected output, or by an inline "# ..." after the command. Each such line is a
fragment that must appear in the output, in order; "..." inside a line elides output, and
whitespace is ignored (JSON is compact, headers keep their words). A line that starts with "## " is
commentary and is not checked. A command without expected output must still succeed: status below
400 and, when the body is JSON, valid JSON.
"""
import json
import os
import re
import subprocess
import unittest

from contract_lib import TOP, Server

README = os.environ.get("GDLAB_README", os.path.join(TOP, "README.md"))
DEFAULT_BASE = re.compile(r"http://(127\.0\.0\.1|localhost):8080")
MIN_EXAMPLES = 10


def examples(text):
    """(line number, command, [expected fragments lines]) for each curl command."""
    out = []
    lines = text.splitlines()
    in_sh = False
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("```"):
            in_sh = not in_sh and line.strip() in ("```sh", "```bash", "```console")
            i += 1
            continue
        if not in_sh or not line.startswith("curl "):
            i += 1
            continue
        start = i + 1
        cmd = line
        while cmd.endswith("\\") and i + 1 < len(lines):
            i += 1
            cmd = cmd[:-1] + " " + lines[i].strip()
        expected = []
        m = re.search(r"\s#\s(.*)$", cmd)
        if m and not cmd[m.start():].lstrip().startswith("##"):
            expected.append(m.group(1))
        i += 1
        while i < len(lines) and lines[i].startswith("#"):
            if not lines[i].startswith("##"):
                expected.append(lines[i][1:].strip())
            i += 1
        out.append((start, cmd, expected))
    return out


def squash(s):
    return re.sub(r"\s+", "", s)


def missing_fragment(output, expected):
    """The first expected fragment not found in order in output, or None."""
    text = squash(output)
    pos = 0
    for line in expected:
        for frag in squash(line).split("..."):
            if not frag:
                continue
            found = text.find(frag, pos)
            if found < 0:
                return frag
            pos = found + len(frag)
    return None


class Readme(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(README, encoding="utf-8") as f:
            cls.examples = examples(f.read())
        cls.server = Server().__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.server.__exit__(None, None, None)

    def run_command(self, cmd):
        cmd = DEFAULT_BASE.sub(self.server.base, cmd)
        piped = "|" in cmd.split("#")[0]
        if not piped:
            cmd = cmd.replace("curl ", "curl -sS -w '\\n@@status=%{http_code}' ", 1)
        proc = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, timeout=120)
        self.assertEqual(proc.returncode, 0, "%s\n%s" % (cmd, proc.stderr))
        out = proc.stdout
        status = None
        m = re.search(r"\n@@status=(\d+)$", out)
        if m:
            status = int(m.group(1))
            out = out[:m.start()]
        return out, status

    def test_enough_examples(self):
        self.assertGreaterEqual(len(self.examples), MIN_EXAMPLES,
                                "the README should show a curl example for every endpoint")
        paths = {re.search(r"8080(/[a-z\-]*)", cmd).group(1) for _, cmd, _ in self.examples}
        for path in ("/dataset", "/surface", "/cross-section", "/train", "/scale", "/stability",
                     "/lr-finder", "/health", "/"):
            self.assertIn(path, paths)

    def test_examples(self):
        for line, cmd, expected in self.examples:
            with self.subTest(line=line, command=cmd):
                out, status = self.run_command(cmd)
                if expected:
                    frag = missing_fragment(out, expected)
                    self.assertIsNone(frag, "README.md:%d: %r is not in the output:\n%s" % (
                        line, frag, out[:2000]))
                    continue
                self.assertIsNotNone(status, cmd)
                self.assertLess(status, 400, out[:500])
                if out.lstrip().startswith(("{", "[")):
                    json.loads(out)


if __name__ == "__main__":
    unittest.main()
