"""format=npz and .npz request bodies, checked with Debian's numpy.

Every computing endpoint is asked for JSON and for npz (format=npz and Accept: application/x-npz):
numpy.load must open the archive, every numeric array of the JSON answer (outside "params") must
be a member named by its path of keys and indices ("runs.0.history.b") and equal it bit for bit,
with no member more; params.json must be the JSON answer's "params" byte for byte, answer.json the
rest of the answer without the arrays; every .npy member's bytes must be what numpy itself writes
(format 1.0, header padded to 64 bytes); the zip is stored, CRCs right. The headers: the media
type, a file name, an ETag of its own (304 on it), never gzip.

Then uploads: an archive of x.npy and y.npy with the other parameters in the query answers exactly
what the same data as JSON answers, and each malformed archive gets a 400 naming the problem.
Last, the echo of long inline data: past 1000 values, {"length", "sha256"} of the float64
little-endian bytes, as hashlib computes them.
"""
import hashlib
import io
import json
import struct
import unittest
import warnings
import zipfile
import zlib

import numpy as np

from gdlab_api import Server

NPZ = "application/x-npz"

# Every endpoint, and the shapes of answer each has: plain, scaled, several runs, optimizers.
REQUESTS = [
    "/dataset",
    "/dataset?scaler=standard&n=57&seed=3",
    "/surface?b_steps=7&w_steps=5",
    "/surface?b_steps=3&w_steps=4&split=val&scaler=minmax",
    "/cross-section",
    "/cross-section?scaler=standard&b_steps=21&w_steps=31&delta=0.5",
    "/train?lr=0.1,0.5,1.1&history=9&epochs=50",
    "/train?optimizer=adam,momentum&lr=0.05&epochs=20&history=11&batch_size=16&schedule=step",
    "/train?history=0",
    "/scale",
    "/scale?scaler=minmax&x_multiplier=50",
    "/stability?lr_steps=9",
    "/stability?optimizer=nesterov&lr_steps=6&momentum_steps=4",
    "/lr-finder?num_iter=20",
    "/lr-finder?optimizer=adam&num_iter=15&step_mode=linear",
]


def with_query(path, extra):
    return path + ("&" if "?" in path else "?") + extra


def expected_arrays(value, prefix=""):
    """The numeric arrays of a JSON value outside "params": {name: list}."""
    out = {}
    if isinstance(value, dict):
        for k, v in value.items():
            if prefix == "" and k == "params":
                continue
            out.update(expected_arrays(v, f"{prefix}{k}" if not prefix else f"{prefix}.{k}"))
    elif isinstance(value, list):
        if is_numeric(value):
            out[prefix] = value
        else:
            for i, v in enumerate(value):
                out.update(expected_arrays(v, f"{prefix}.{i}"))
    return out


def is_number(v):
    return v is None or (isinstance(v, (int, float)) and not isinstance(v, bool))


def is_numeric(value):
    """A list of numbers (null standing for a non-finite one), or a non-empty list of such rows of
    one length: a matrix. An empty list counts as numeric."""
    if all(is_number(v) for v in value):
        return True
    return (all(isinstance(r, list) and all(is_number(v) for v in r) for r in value) and
            len({len(r) for r in value}) == 1)


def without_arrays(value, top=True):
    """What answer.json holds: the answer without "params" and without its numeric arrays."""
    if isinstance(value, dict):
        return {k: without_arrays(v, False) for k, v in value.items()
                if not (top and k == "params") and not (isinstance(v, list) and is_numeric(v))}
    if isinstance(value, list):
        return [without_arrays(v, False) for v in value if not (isinstance(v, list) and
                                                                 is_numeric(v))]
    return value


def numpy_bytes(arr):
    buf = io.BytesIO()
    np.lib.format.write_array(buf, arr, version=(1, 0))
    return buf.getvalue()


def savez(**arrays):
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def stored_zip(members):
    """A zip of (name, bytes) members, stored, as Python's zipfile writes it."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a duplicate name is the point of one case
        for name, data in members:
            z.writestr(name, data)
    return buf.getvalue()


def corrupt_crc(body):
    """Flip a bit in the last data byte of the first member (x.npy), keeping its recorded CRC."""
    name_len, extra_len = struct.unpack("<HH", body[26:30])
    size = struct.unpack("<I", body[22:26])[0]
    at = 30 + name_len + extra_len + size - 1
    return body[:at] + bytes([body[at] ^ 1]) + body[at + 1:]


class Npz(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server().__enter__()
        cls.small = Server("--max-n", "100", "--max-body", "4096").__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.server.__exit__(None, None, None)
        cls.small.__exit__(None, None, None)

    def check_archive(self, body, answer, json_body):
        z = np.load(io.BytesIO(body))
        want = expected_arrays(answer)
        arrays = {k for k in z.files if not k.endswith(".json")}
        self.assertEqual(arrays, set(want))
        for name, values in want.items():
            got = z[name]
            if len(values) == 0:  # JSON's [] has no type: '<u8' or '<f8', empty either way
                self.assertEqual(got.shape, (0,), name)
                self.assertIn(got.dtype, (np.dtype("<u8"), np.dtype("<f8")), name)
                continue
            ints = all(isinstance(v, int) for v in np.ravel(np.array(values, dtype=object)))
            if ints:
                self.assertEqual(got.dtype, np.dtype("<u8"), name)
                self.assertEqual(got.tolist(), values, name)
                continue
            self.assertEqual(got.dtype, np.dtype("<f8"), name)
            ref = np.array([np.nan if v is None else v for v in np.ravel(
                np.array(values, dtype=object))], dtype="<f8").reshape(np.shape(values))
            self.assertEqual(got.shape, ref.shape, name)
            finite = np.isfinite(ref)
            self.assertTrue(np.array_equal(got[finite].view("<u8"), ref[finite].view("<u8")),
                            name)
            self.assertFalse(np.isfinite(got[~finite]).any(), name)
        # params.json is the JSON answer's "params" byte for byte; answer.json the rest
        self.assertIn(b'"params":' + z["params.json"], json_body)
        self.assertEqual(json.loads(z["answer.json"]), without_arrays(answer))
        # stored members, right CRCs, and every .npy exactly as numpy writes it
        with zipfile.ZipFile(io.BytesIO(body)) as zf:
            self.assertIsNone(zf.testzip())
            for info in zf.infolist():
                self.assertEqual(info.compress_type, zipfile.ZIP_STORED, info.filename)
                if info.filename.endswith(".npy"):
                    raw = zf.read(info)
                    self.assertEqual(raw, numpy_bytes(z[info.filename[:-4]]), info.filename)
                    self.assertEqual(raw[6:8], b"\x01\x00")

    def test_every_endpoint_as_npz(self):
        for path in REQUESTS:
            with self.subTest(path=path):
                j = self.server.get(path)
                self.assertEqual(j.status, 200, j.body[:200])
                r = self.server.get(with_query(path, "format=npz"),
                                    headers={"Accept-Encoding": "gzip"})
                self.assertEqual(r.status, 200, r.body[:300])
                self.assertEqual(r.content_type, NPZ)
                self.assertNotIn("content-encoding", r.headers)
                name = path.split("?")[0][1:]
                self.assertEqual(r.headers["content-disposition"],
                                 f'attachment; filename="{name}.npz"')
                self.assertIn("Accept", r.headers["vary"])
                self.assertNotEqual(r.headers["etag"], j.headers["etag"])
                self.check_archive(r.body, j.json, j.body)
                # Accept chooses the same representation: same bytes, same ETag
                a = self.server.get(path, headers={"Accept": NPZ})
                self.assertEqual(a.content_type, NPZ)
                self.assertEqual(a.body, r.body)
                self.assertEqual(a.headers["etag"], r.headers["etag"])
                # a browser's Accept still gets JSON; the npz ETag revalidates
                b = self.server.get(path, headers={"Accept": "text/html,*/*;q=0.8"})
                self.assertEqual(b.content_type, "application/json")
                nm = self.server.get(with_query(path, "format=npz"),
                                     headers={"If-None-Match": r.headers["etag"]})
                self.assertEqual(nm.status, 304)
                # and again (perhaps from the response cache), byte for byte
                again = self.server.get(with_query(path, "format=npz"))
                self.assertEqual(again.body, r.body)
                self.assertEqual(again.content_type, NPZ)
                self.assertEqual(again.headers.get("content-disposition"),
                                 r.headers["content-disposition"])

    def test_npz_body_answers_as_json_body(self):
        rng = np.random.default_rng(7)
        x = rng.normal(size=60)
        y = 1 + 2 * x + rng.normal(scale=0.1, size=60)
        body = savez(x=x, y=y)
        for path, params in [("/surface", {"b_steps": 9, "w_steps": 8}),
                             ("/train", {"lr": 0.2, "history": 5}),
                             ("/dataset", {}), ("/cross-section", {}), ("/scale", {}),
                             ("/stability", {"lr_steps": 5}),
                             ("/lr-finder", {"num_iter": 10})]:
            with self.subTest(path=path):
                query = "&".join(f"{k}={v}" for k, v in params.items())
                target = path + ("?" + query if query else "")
                r = self.server.post(target, raw=body, content_type=NPZ)
                self.assertEqual(r.status, 200, r.body[:300])
                j = self.server.post(path, {**params, "x": x.tolist(), "y": y.tolist()})
                self.assertEqual(j.status, 200, j.body[:300])
                self.assertEqual(r.body, j.body)
                self.assertEqual(r.headers["etag"], j.headers["etag"])
                # and answered as npz
                z = self.server.request("POST", with_query(target, "format=npz"), body=body,
                                        headers={"Content-Type": NPZ})
                self.assertEqual(z.content_type, NPZ)
                self.check_archive(z.body, j.json, j.body)
        # numpy.savez with positional and a file on disk write the same layout; float64 views
        # of other arrays are accepted as long as the bytes are '<f8'
        r = self.server.post("/dataset", raw=savez(x=x[::2].copy(), y=y[::2].copy()),
                             content_type=NPZ + "; charset=binary")
        self.assertEqual(r.status, 200, r.body[:300])

    def test_malformed_npz_bodies(self):
        x = np.linspace(0, 1, 20)
        y = 2 * x
        good = savez(x=x, y=y)
        compressed = io.BytesIO()
        np.savez_compressed(compressed, x=x, y=y)
        cases = [
            # (label, body, server, status, type, param, detail fragment)
            ("not a zip", b"x=1,2", "default", 400, "malformed-npz", None, "not a zip"),
            ("empty", b"", "default", 400, "malformed-npz", None, "not a zip"),
            ("truncated", good[:-10], "default", 400, "malformed-npz", None, "end record"),
            ("compressed", compressed.getvalue(), "default", 400, "malformed-npz", "x",
             "savez_compressed"),
            ("float32", savez(x=x.astype("<f4"), y=y), "default", 400, "malformed-npz", "x",
             "'<f4'"),
            ("int64", savez(x=x, y=np.arange(20)), "default", 400, "malformed-npz", "y",
             "'<i8'"),
            ("big-endian", savez(x=x.astype(">f8"), y=y), "default", 400, "malformed-npz", "x",
             "'>f8'"),
            ("2-D", savez(x=x.reshape(4, 5), y=y), "default", 400, "malformed-npz", "x",
             "2 dimensions"),
            ("0-D", savez(x=np.float64(1.0), y=y), "default", 400, "malformed-npz", "x",
             "0 dimensions"),
            ("missing y", savez(x=x), "default", 400, "malformed-npz", "y", "no member y.npy"),
            ("extra member", savez(x=x, y=y, z=y), "default", 400, "malformed-npz", None,
             "unexpected member 'z.npy'"),
            ("twice", stored_zip([("x.npy", numpy_bytes(x)), ("x.npy", numpy_bytes(x)),
                                  ("y.npy", numpy_bytes(y))]),
             "default", 400, "malformed-npz", "x", "twice"),
            ("not npy", stored_zip([("x.npy", b"hello"), ("y.npy", numpy_bytes(y))]),
             "default", 400, "malformed-npz", "x", "not an npy array"),
            ("bad header", stored_zip([("x.npy", numpy_bytes(x).replace(b"'shape'", b"'shope'")),
                                       ("y.npy", numpy_bytes(y))]),
             "default", 400, "malformed-npz", "x", "header"),
            ("short data", stored_zip([("x.npy", numpy_bytes(x)[:-8]), ("y.npy", numpy_bytes(y))]),
             "default", 400, "malformed-npz", "x", "bytes of data"),
            ("crc", corrupt_crc(good), "default", 400, "malformed-npz", "x", "CRC-32"),
            ("unequal", savez(x=x, y=y[:-1]), "default", 400, "invalid-parameter", "y",
             "as many values"),
            ("one point", savez(x=x[:1], y=y[:1]), "default", 400, "out-of-range", "x",
             "between 2"),
            ("not finite", savez(x=np.where(x > 0.5, np.inf, x), y=y), "default", 400,
             "out-of-range", "x", "finite"),
            ("over --max-n", savez(x=np.zeros(101), y=np.zeros(101)), "small", 400,
             "out-of-range", "x", "--max-n"),
            ("over --max-body", savez(x=np.zeros(300), y=np.zeros(300)), "small", 413,
             "body-too-large", None, "--max-body"),
        ]
        for label, body, server, status, ptype, param, detail in cases:
            with self.subTest(case=label):
                s = self.small if server == "small" else self.server
                r = s.post("/surface?b_steps=5&w_steps=5", raw=body, content_type=NPZ)
                self.assertEqual(r.status, status, r.body[:300])
                self.assertEqual(r.content_type, "application/problem+json")
                self.assertEqual(r.json["type"], "/problems/" + ptype)
                self.assertEqual(r.json.get("param"), param, r.json["detail"])
                self.assertIn(detail, r.json["detail"])
        # the query is parsed as a GET's would be; a JSON POST still takes no query string
        r = self.server.post("/surface?bogus=1", raw=good, content_type=NPZ)
        self.assertEqual(r.json["type"], "/problems/unknown-parameter")
        r = self.server.post("/surface?b_steps=5", {"w_steps": 5})
        self.assertEqual(r.json["type"], "/problems/invalid-parameter")
        self.assertIn("not the query string", r.json["detail"])
        r = self.server.post("/surface?x=1,2", raw=good, content_type=NPZ)
        self.assertEqual((r.status, r.json["param"]), (400, "x"))

    def test_echo_by_hash(self):
        rng = np.random.default_rng(11)
        for n in (1000, 1001, 5000):
            x = rng.normal(size=n)
            y = 3 - x + rng.normal(scale=0.2, size=n)
            with self.subTest(n=n):
                j = self.server.post("/surface", {"x": x.tolist(), "y": y.tolist(), "b_steps": 3,
                                                  "w_steps": 3})
                self.assertEqual(j.status, 200, j.body[:200])
                echo = j.json["params"]
                if n <= 1000:
                    self.assertEqual(echo["x"], x.tolist())
                    self.assertEqual(echo["y"], y.tolist())
                    continue
                for name, v in (("x", x), ("y", y)):
                    self.assertEqual(echo[name], {
                        "length": n,
                        "sha256": hashlib.sha256(v.astype("<f8").tobytes()).hexdigest()})
                self.assertLess(len(j.body), 4000)
                # the same data as npz: the same answer; one value changed: another ETag
                r = self.server.post("/surface?b_steps=3&w_steps=3", raw=savez(x=x, y=y),
                                     content_type=NPZ)
                self.assertEqual(r.body, j.body)
                x2 = x.copy()
                x2[n // 2] = np.nextafter(x2[n // 2], np.inf)
                r2 = self.server.post("/surface?b_steps=3&w_steps=3", raw=savez(x=x2, y=y),
                                      content_type=NPZ)
                self.assertNotEqual(r2.headers["etag"], r.headers["etag"])
                self.assertNotEqual(r2.json["params"]["x"]["sha256"], echo["x"]["sha256"])

    def test_crc_is_zlibs(self):
        body = self.server.get("/surface?b_steps=2&w_steps=2&format=npz").body
        with zipfile.ZipFile(io.BytesIO(body)) as zf:
            for info in zf.infolist():
                self.assertEqual(info.CRC, zlib.crc32(zf.read(info)))


if __name__ == "__main__":
    unittest.main(verbosity=2)
