"""Fetch and decode a QLink coordinator's or node's `GET /status` (docs/monitoring.md, "Status API").

    from qlink import status
    s = status.fetch("http://127.0.0.1:9460")       # or "127.0.0.1:9460"; /status is added
    print(s["state"], s["fidelityText"], [a["rule"] for a in s["alerts"]])

The answer is `LinkStatus` as JSON with camel-case keys; non-finite numbers arrive as the strings "NaN",
"Infinity" and "-Infinity", which `decode` turns back into floats. Only the standard library is used.
"""
import json
import math
import urllib.error
import urllib.parse
import urllib.request

#: Keys every status carries.
REQUIRED_KEYS = ("link", "state", "role", "timePs", "uptimeSeconds", "alerts", "nodes")
#: The states a link reports.
STATES = ("starting", "running", "degraded", "stopped")
_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


class StatusError(Exception):
    """The status server could not be reached or did not answer with a QLink status."""


def status_url(base):
    """`base` (`http://HOST:PORT[/path]`, `HOST:PORT` or `tcp://HOST:PORT`) as the status URL."""
    text = base if "://" in base else "http://" + base
    if text.startswith("tcp://"):
        text = "http://" + text[len("tcp://"):]
    parts = urllib.parse.urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise StatusError(f"'{base}' is not a status server address; give http://HOST:PORT "
                          "(the coordinator's monitoring.status_endpoint)")
    path = parts.path if parts.path not in ("", "/") else "/status"
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


def decode(data):
    """A status document (bytes or str of JSON) as a dict, non-finite numbers restored; raises StatusError when
    it is not a QLink status."""
    try:
        document = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise StatusError(f"not a QLink status: the JSON is invalid ({error})") from None
    if not isinstance(document, dict):
        raise StatusError("not a QLink status: the JSON is not an object")
    missing = [key for key in REQUIRED_KEYS if key not in document]
    if missing:
        raise StatusError(f"not a QLink status: keys {', '.join(missing)} are missing")
    if document["state"] not in STATES:
        raise StatusError(f"not a QLink status: unknown state {document['state']!r}")
    return _restore(document)


def _restore(value):
    if isinstance(value, dict):
        return {key: _restore(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_restore(item) for item in value]
    if isinstance(value, str) and value in _NON_FINITE:
        return _NON_FINITE[value]
    return value


def fetch(base, timeout_s=5.0):
    """GET the status from `base` (see `status_url`) and decode it."""
    url = status_url(base)
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            return decode(response.read())
    except urllib.error.HTTPError as error:
        raise StatusError(f"the status server at {url} answered HTTP {error.code}; the status is served at /status") from None
    except (urllib.error.URLError, OSError) as error:
        raise StatusError(f"cannot reach the status server at {url}: {getattr(error, 'reason', error)}; check that the "
                          "coordinator or node runs with a status endpoint and that the address is right") from None
