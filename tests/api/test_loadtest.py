"""bench/loadtest, the users' load test, in a short pass against a real server: it runs, every
endpoint of the scenario is exercised and reported, and a correct server gives no errors. No
timing is asserted (the machine is shared): the objective's verdict is only required to be there."""
import json
import os
import subprocess
import tempfile
import unittest

from gdlab_api import Server

HERE = os.path.dirname(os.path.abspath(__file__))
LOADTEST = os.path.join(HERE, "..", "..", "bench", "loadtest")
ENDPOINTS = {"/ (page)", "/static/*", "/dataset", "/surface", "/cross-section", "/train",
             "/scale", "/health"}


class LoadTestTest(unittest.TestCase):
    def test_short_pass(self):
        with Server("--bind", "127.0.0.1") as s, \
                tempfile.NamedTemporaryFile(suffix=".json") as out:
            run = subprocess.run(
                [LOADTEST, "--learners", "3", "--api-users", "2", "--duration", "4",
                 "--think", "0.3", "--step-ms", "20", "--api-think", "0.05", "--timeout", "60",
                 "--json", out.name, f"http://127.0.0.1:{s.port}"],
                capture_output=True, text=True, timeout=180)
            self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
            result = json.load(open(out.name))
        rows = {r["endpoint"]: r for r in result["rows"]}
        self.assertEqual(set(rows), ENDPOINTS, run.stdout)
        for name, r in rows.items():
            self.assertGreater(r["requests"], 0, name)
            self.assertEqual(r["errors"], 0, f"{name}: {run.stdout}")
            self.assertLessEqual(r["p50_us"], r["p99_us"])
            self.assertLessEqual(r["p99_us"], r["p999_us"])
        summary = result["summary"]
        self.assertEqual(summary["errors"], 0, run.stdout)
        self.assertEqual(summary["requests"], sum(r["requests"] for r in rows.values()))
        # Each slider step is two /train; a learner's page view asks /train three times.
        self.assertGreater(rows["/train"]["requests"], rows["/dataset"]["requests"])
        self.assertEqual(summary["all"]["requests"], summary["requests"])
        self.assertIn("objective (p99 of all requests < 100 ms, no errors): ", run.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
