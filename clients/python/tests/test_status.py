"""`/status` decoding against a status recorded from `qlink demo`, and fetching it over HTTP."""
import http.server
import math
import threading

import pytest

from qlink import status
from conftest import DATA

RECORDED = DATA / "coordinator-status.json"


def test_decodes_a_recorded_coordinator_status():
    decoded = status.decode(RECORDED.read_bytes())
    assert decoded["role"] == "coordinator"
    assert decoded["state"] in status.STATES
    assert isinstance(decoded["timePs"], int)
    assert isinstance(decoded["alerts"], list) and isinstance(decoded["nodes"], list)
    assert decoded["fidelityText"].startswith("F")
    assert all(set(row) == {"label", "value"} for row in decoded["analysisRows"])


def test_non_finite_numbers_come_back_as_floats():
    text = RECORDED.read_text().replace('"uptimeSeconds":', '"uptimeSeconds":"NaN","x":', 1)
    assert math.isnan(status.decode(text)["uptimeSeconds"])


@pytest.mark.parametrize("text, problem", [
    ("[]", "not an object"), ("{", "JSON is invalid"), ('{"link": "x"}', "missing"),
])
def test_refuses_what_is_not_a_status(text, problem):
    with pytest.raises(status.StatusError, match=problem):
        status.decode(text)


def test_status_url_adds_the_path():
    assert status.status_url("127.0.0.1:9460") == "http://127.0.0.1:9460/status"
    assert status.status_url("tcp://127.0.0.1:9460") == "http://127.0.0.1:9460/status"
    assert status.status_url("http://h:1/other") == "http://h:1/other"


@pytest.fixture
def server():
    body = RECORDED.read_bytes()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path != "/status":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_):
            pass

    httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_fetches_over_http(server):
    assert status.fetch(server)["role"] == "coordinator"
    with pytest.raises(status.StatusError, match="HTTP 404"):
        status.fetch(f"http://{server}/nothing")
