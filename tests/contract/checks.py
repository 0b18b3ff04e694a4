"""Holding a response to the document: status, media type, body schema and headers."""
import json


def media_params(ct):
    """('text/plain', {'version': '0.0.4'}) from a Content-Type value."""
    parts = [p.strip() for p in ct.split(";")]
    params = {}
    for p in parts[1:]:
        if "=" in p:
            k, v = p.split("=", 1)
            params[k.strip().lower()] = v.strip().strip('"')
    return parts[0].lower(), params


def is_json_type(media_type):
    return media_type == "application/json" or media_type.endswith("+json")


def documented_media(content, ct):
    """The key of content that a response's Content-Type matches: same type and subtype, and
    every parameter the document names (a response may add charset)."""
    got_type, got_params = media_params(ct)
    for key in content:
        want_type, want_params = media_params(key)
        if want_type == got_type and all(got_params.get(k) == v for k, v in want_params.items()):
            return key
    return None


def check_response(spec, path, method, resp, seen=None):
    """Assert that resp is what the document says path+method answers with resp.status; returns
    the documented response. seen, a set, collects (path, method, status) for coverage."""
    where = "%s %s -> %d" % (method.upper(), path, resp.status)
    assert 100 <= resp.status < 500 or resp.status == 503, \
        "%s: a server error: %r" % (where, resp.body[:300])
    documented = spec.response(path, method, resp.status)
    assert documented is not None, "%s: status not documented for this operation (body %r)" % (
        where, resp.body[:300])
    if seen is not None:
        seen.add((path, method, str(resp.status)))
    check_headers(spec, where, documented, resp)
    content = documented.get("content")
    if method == "head" or resp.status in (204, 304):
        assert resp.raw == b"", "%s: must have no body, got %r" % (where, resp.raw[:100])
        return documented
    if not content:
        assert resp.raw == b"", "%s: documented without a body, got %r" % (where, resp.raw[:100])
        return documented
    ct = resp.headers.get("content-type", "")
    key = documented_media(content, ct)
    assert key is not None, "%s: Content-Type %r is not one of %s" % (where, ct, list(content))
    schema = content[key].get("schema", {})
    if is_json_type(resp.media_type):
        try:
            doc = resp.json
        except (ValueError, UnicodeDecodeError) as e:
            raise AssertionError("%s: body is not JSON: %s: %r" % (where, e, resp.body[:200]))
        try:
            spec.validate(doc, schema)
        except AssertionError as e:
            raise AssertionError("%s: %s" % (where, e)) from None
    elif resp.media_type.startswith("text/") or resp.media_type.endswith("yaml"):
        text = resp.body.decode("utf-8")  # text must be UTF-8
        spec.validate(text, schema)
    return documented


def check_headers(spec, where, documented, resp):
    for name, header in (documented.get("headers") or {}).items():
        header = spec.resolve(header)
        value = resp.headers.get(name.lower())
        if value is None:
            assert not header.get("required"), "%s: required header %s missing" % (where, name)
            continue
        schema = header.get("schema", {})
        if schema.get("type") == "integer":
            assert value.isdigit(), "%s: header %s=%r is not an integer" % (where, name, value)
            value = int(value)
        assert spec.is_valid(value, schema), "%s: header %s=%r does not match %s" % (
            where, name, value, json.dumps(schema))
