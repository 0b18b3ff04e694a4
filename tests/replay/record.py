#!/usr/bin/python3
"""Record the replay corpus: every request of tests/replay/requests.json sent to a gdlab binary
and its full answer (status, headers but Date, body bytes) written to tests/replay/corpus.jsonl,
one JSON object a line, with the request itself. test_replay.py (ctest -R api.replay) then demands
the same answers, byte for byte, from every later build.

    /usr/bin/python3 tests/replay/record.py            # dry run: the ids whose answers changed
    /usr/bin/python3 tests/replay/record.py --record   # rewrite corpus.jsonl

The binary is --binary, else $GDLAB_BINARY, else build/release/src/gdlab. Each request is
sent twice (the second answer may come from the response cache); recording stops if they differ.
Re-record only when a change of an answer is intended, and say which ids changed and why in the
commit; the dry run lists them.
"""
import argparse
import os
import sys

import replay_lib as lib


def record_all(binary):
    """The records of every request, in order; SystemExit when an answer is not reproducible."""
    specs = lib.load_requests()
    ids = [s["id"] for s in specs]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        sys.exit("record: duplicate ids in requests.json: " + ", ".join(dup))
    proc = lib.start_server(binary)
    records, etags, exc = [], {}, None
    try:
        for spec in specs:
            first, etag = lib.exchange(proc.port, spec, etags)
            again, _ = lib.exchange(proc.port, spec, etags)
            if lib.canonical(first) != lib.canonical(again):
                sys.exit("record: %s answered differently the second time:\n%s"
                         % (spec["id"], "\n".join(lib.describe_mismatch(first, again))))
            etags[spec["id"]] = etag
            records.append({**first, "request": spec})
    except BaseException as e:
        exc = e
        raise
    finally:
        proc.finish(type(exc) if exc else None)
    return records


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--record", action="store_true", help="rewrite corpus.jsonl")
    ap.add_argument("--binary", default=os.environ.get("GDLAB_BINARY", lib.DEFAULT_BINARY))
    args = ap.parse_args()
    records = record_all(args.binary)
    if args.record:
        lib.dump_corpus(records)
        print("recorded %d answers, %d bytes, in %s"
              % (len(records), os.path.getsize(lib.CORPUS), lib.CORPUS))
        return 0
    old = {r["id"]: r for r in lib.load_corpus()} if os.path.exists(lib.CORPUS) else {}
    changed = 0
    for r in records:
        if r["id"] not in old:
            print("new: " + r["id"])
            changed += 1
        elif (lib.canonical(old[r["id"]]) != lib.canonical(r)
              or old[r["id"]]["request"] != r["request"]):
            print("changed: " + r["id"])
            changed += 1
    gone = sorted(set(old) - {r["id"] for r in records})
    for i in gone:
        print("gone: " + i)
    print("%d of %d answers would change, %d gone (dry run; --record writes them)"
          % (changed, len(records), len(gone)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
