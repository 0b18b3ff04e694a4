"""The command line, from the data table cli_cases.json: bad values stop the server at start-up
with exit status 2 and a message naming the flag (or variable) and its range; good ones start it.
--help lists every flag that the README's flag table documents."""
import json
import os
import re
import subprocess
import unittest

from gdlab_api import BINARY, Server

HERE = os.path.dirname(os.path.abspath(__file__))
README = os.path.join(HERE, "..", "..", "README.md")


def load_cases():
    with open(os.path.join(HERE, "cli_cases.json"), encoding="utf-8") as f:
        return json.load(f)


def run(args, env=None):
    return subprocess.run([BINARY, "--port", "0", *args], capture_output=True, text=True,
                          timeout=30, env=dict(os.environ, **(env or {})))


class CommandLineTest(unittest.TestCase):
    def test_rejected(self):
        for case in load_cases()["reject"]:
            with self.subTest(args=case["args"], env=case.get("env")):
                out = run(case["args"], case.get("env"))
                self.assertEqual(out.returncode, 2, out.stderr)
                self.assertIn(case["stderr"], out.stderr)
                self.assertNotIn("listening", out.stderr)

    def test_accepted(self):
        for case in load_cases()["accept"]:
            with self.subTest(args=case["args"], env=case.get("env")):
                with Server(*case["args"], env=case.get("env")) as s:
                    self.assertEqual(s.get("/health").status, 200)

    def test_help_lists_the_readme_flags(self):
        out = run(["--help"])
        self.assertEqual(out.returncode, 0)
        with open(README, encoding="utf-8") as f:
            documented = set(re.findall(r"^\| `--([a-z-]+)", f.read(), re.M))
        listed = set(re.findall(r"^  --([a-z-]+)", out.stdout, re.M)) - {"help", "version"}
        self.assertGreaterEqual(len(documented), 19)
        self.assertEqual(documented, listed)


if __name__ == "__main__":
    unittest.main(verbosity=2)
