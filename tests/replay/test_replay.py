#!/usr/bin/python3
"""Replay the corpus (tests/replay/corpus.jsonl, recorded by record.py) against $GDLAB_BINARY and
demand the recorded answers: status, headers (but Date; file mtimes normalised, see replay_lib.py)
and body, byte for byte. Each request is sent twice in a row, so that the second answer, which may
come from the response cache, is held to the same bytes as the computed one. A corpus that no longer
matches requests.json fails too: re-record it (record.py --record) after editing the requests."""
import http.client
import os
import sys

import replay_lib as lib


def stale_corpus(corpus):
    """Lines about requests.json and the corpus disagreeing (a request edited but not recorded)."""
    specs = {s["id"]: s for s in lib.load_requests()}
    recorded = {r["id"]: r["request"] for r in corpus}
    lines = ["request %s is not in the corpus" % i for i in specs if i not in recorded]
    lines += ["corpus record %s is not in requests.json" % i for i in recorded if i not in specs]
    lines += ["request %s changed since it was recorded" % i for i in specs
              if i in recorded and recorded[i] != specs[i]]
    return lines


def main():
    binary = os.environ.get("GDLAB_BINARY")
    if not binary:
        sys.exit("test_replay: set GDLAB_BINARY to the gdlab binary")
    corpus = lib.load_corpus()
    stale = stale_corpus(corpus)
    for line in stale:
        print("STALE " + line)
    proc = lib.start_server(binary)
    passed, failed, etags, exc = 0, 0, {}, None
    try:
        for want in corpus:
            spec = want["request"]
            problems = []
            for attempt in ("first", "second"):
                try:
                    got, etag = lib.exchange(proc.port, spec, etags)
                except (OSError, ValueError, http.client.HTTPException) as e:
                    problems.append("  %s send: %s: %s" % (attempt, type(e).__name__, e))
                    continue
                if attempt == "first":
                    etags[spec["id"]] = etag
                if lib.canonical(got) != lib.canonical(want):
                    problems.append("  %s send differs from the recording:" % attempt)
                    problems += ["  " + line for line in lib.describe_mismatch(want, got)]
            if problems:
                failed += 1
                print("FAIL %s: %s" % (spec["id"], spec.get("raw") and "raw request"
                                       or "%s %s" % (spec["method"], spec["path"][:200])))
                print("\n".join(problems))
            else:
                passed += 1
    except BaseException as e:
        exc = e
        raise
    finally:
        proc.finish(type(exc) if exc else None)
    failed += len(stale)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
