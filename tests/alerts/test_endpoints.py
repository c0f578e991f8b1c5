"""The endpoint rule (protocol v1.1): no push to internal addresses, checked when saved and when connecting.

Partners here are real HTTP servers on 127.0.0.1; the allow-list is emptied or
narrowed to one port so that loopback itself is the forbidden place. The
SSRF set: loopback in its spellings, private ranges, link-local and the cloud
metadata address, IPv6 forms (``::1``, IPv4-mapped, ``fc00::/7``, ``fe80::``),
names that resolve to loopback (``localhost``, a name in /etc/hosts), a name
that changes its answer between the save and the push (DNS rebinding), and a
redirect from an allowed server to an internal one.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse
from rest_framework.test import APIClient

from agencies import endpoints
from agencies.actions import set_endpoint
from agencies.models import Agency
from alerts import tasks
from alerts.choices import AttemptFailure, DeliveryState
from alerts.models import Delivery, DeliveryAttempt
from cases import actions
from cases.models import Task

from ..conftest import agency, make_case

SSRF_URLS = [
    "https://127.0.0.1/push",
    "https://127.0.0.2:8443/push",
    "https://127.1/push",
    "https://0x7f.1/push",
    "https://2130706433/push",
    "https://0177.0.0.1/push",
    "https://[::1]/push",
    "https://[::ffff:127.0.0.1]/push",
    "https://[::ffff:7f00:1]/push",
    "https://[::ffff:169.254.169.254]/push",
    "https://10.0.0.5/push",
    "https://172.16.3.4/push",
    "https://192.168.1.10/push",
    "https://169.254.169.254/latest/meta-data/",
    "https://100.64.0.1/push",
    "https://0.0.0.0/push",
    "https://224.0.0.1/push",
    "https://240.0.0.1/push",
    "https://[fc00::1]/push",
    "https://[fd12:3456::1]/push",
    "https://[fe80::1]/push",
    "https://[ff02::1]/push",
    "https://[::]/push",
    "https://[64:ff9b::7f00:1]/push",
    "https://[2002:7f00:1::1]/push",
    "https://localhost/push",
    "https://LOCALHOST./push",
    "https://vm/push",  # a name in /etc/hosts that resolves to 127.0.0.1
    "http://93.184.215.14/push",  # public, but not https
    "https://user:pw@93.184.215.14/push",
    "ftp://93.184.215.14/push",
]


@pytest.fixture
def no_allow_list(settings):
    settings.PUSH_ALLOWED_HOSTS = []
    settings.PUSH_REQUIRE_HTTPS = True
    tasks._client = None  # a fresh client per test
    yield settings
    tasks._client = None


# --- when the URL is saved ------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("url", SSRF_URLS)
def test_an_internal_endpoint_is_refused_when_saved(no_allow_list, url):
    ccb = agency("CCB")
    with pytest.raises(ValidationError):
        set_endpoint(ccb, url=url, secret="s3cret-0123456789", acting_user=None)
    ccb.refresh_from_db()
    assert ccb.endpoint_url == "" and ccb.endpoint_secret == ""


@pytest.mark.django_db
def test_set_endpoint_command_refuses_an_internal_endpoint(no_allow_list):
    with pytest.raises(CommandError) as refused:
        call_command("set_endpoint", "CCB", "https://169.254.169.254/latest/", "--secret", "s3cret")
    assert str(refused.value) == str(endpoints.INTERNAL_MESSAGE)  # names no address
    assert Agency.objects.get(code="CCB").endpoint_url == ""


@pytest.mark.django_db
def test_the_managers_page_refuses_an_internal_endpoint(no_allow_list, client, ccb_manager):
    client.force_login(ccb_manager)
    for url in ("https://[::ffff:127.0.0.1]/x", "https://localhost/x", "http://93.184.215.14/x"):
        response = client.post(reverse("my-agency"), {"do": "endpoint", "endpoint_url": url})
        assert response.status_code == 400
        assert response.context["endpoint_form"].errors
    assert Agency.objects.get(code="CCB").endpoint_url == ""


@pytest.mark.django_db
def test_public_https_and_names_not_resolvable_yet_are_accepted(no_allow_list):
    set_endpoint(agency("CCB"), url="https://93.184.215.14/push", secret="s3cret-0123456789", acting_user=None)
    # No DNS answer now (a partner may register before its name is published): the check at
    # connect time decides.
    set_endpoint(agency("ICBC"), url="https://partner.example.invalid/hook", secret="x" * 20, acting_user=None)
    assert Agency.objects.get(code="ICBC").endpoint_url == "https://partner.example.invalid/hook"


@pytest.mark.django_db
def test_the_allow_list_names_an_address_and_port(no_allow_list):
    no_allow_list.PUSH_ALLOWED_HOSTS = ["127.0.0.1:8100"]
    set_endpoint(agency("CCB"), url="http://127.0.0.1:8100/CCB/", secret="s3cret-0123456789", acting_user=None)
    for other in ("http://127.0.0.1:8101/CCB/", "http://localhost:8100/CCB/", "https://[::1]:8100/CCB/"):
        with pytest.raises(ValidationError):
            set_endpoint(agency("ICBC"), url=other, secret="s3cret-0123456789", acting_user=None)


def test_allow_list_entries_parse():
    parse = endpoints.parse_allow_entry
    assert parse("127.0.0.1:8100").port == 8100 and parse("127.0.0.1:8100").network is not None
    assert parse("[::1]:8100").port == 8100
    assert parse("::1").network is not None and parse("::1").port is None
    assert parse("10.20.0.0/16").network.num_addresses == 65536
    assert parse("Partner-Sim:8443").host == "partner-sim" and parse("partner-sim:8443").port == 8443
    for bad in ("", "a b", "[::1", "host:99999", "host:x"):
        with pytest.raises(ValueError):
            parse(bad)


# --- when the push connects -------------------------------------------------------------


class Recorder(ThreadingHTTPServer):
    """A partner on 127.0.0.1 that answers ``answer`` and remembers every request."""

    daemon_threads = True

    def __init__(self, answer=(202, {}, b"{}"), delay: float = 0.0):
        self.answer, self.delay, self.requests = answer, delay, []
        super().__init__(("127.0.0.1", 0), _Handler)
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    @property
    def port(self) -> int:
        return self.server_address[1]

    def stop(self):
        self.shutdown()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
        if self.server.delay:
            time.sleep(self.server.delay)
        status, headers, content = self.server.answer
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)


@pytest.fixture
def servers():
    started = []

    def start(**kwargs) -> Recorder:
        server = Recorder(**kwargs)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def _pending_delivery(analyst, django_capture_on_commit_callbacks) -> Delivery:
    case = make_case(analyst)
    [task] = actions.issue_stop_payments(case, acting_user=analyst, approve=False)
    with django_capture_on_commit_callbacks(execute=False):  # the push is run by the test itself
        actions.approve_task(task, acting_user=analyst)
    return Delivery.objects.get(task=task)


def _push(delivery) -> tuple[Delivery, DeliveryAttempt]:
    tasks.push_delivery(str(delivery.pk))
    delivery.refresh_from_db()
    return delivery, DeliveryAttempt.objects.filter(delivery=delivery).latest("at", "id")


@pytest.mark.django_db
def test_an_endpoint_allowed_when_saved_is_checked_again_when_connecting(
    no_allow_list, servers, analyst, django_capture_on_commit_callbacks
):
    partner = servers()
    no_allow_list.PUSH_ALLOWED_HOSTS = [f"127.0.0.1:{partner.port}"]
    set_endpoint(agency("CCB"), url=f"http://127.0.0.1:{partner.port}/CCB/", secret="s" * 20, acting_user=None)
    delivery = _pending_delivery(analyst, django_capture_on_commit_callbacks)
    no_allow_list.PUSH_ALLOWED_HOSTS = []  # the operator withdrew it before the push
    no_allow_list.PUSH_REQUIRE_HTTPS = False  # so the address, not the scheme, is what refuses

    delivery, attempt = _push(delivery)
    assert partner.requests == []
    assert attempt.status_code is None and attempt.error == AttemptFailure.BLOCKED
    assert delivery.state == DeliveryState.FAILED and delivery.last_error == AttemptFailure.BLOCKED
    task = Task.objects.get(pk=delivery.task_id)
    assert task.needs_attention and "blocked" in task.attention_reason


@pytest.mark.django_db
def test_dns_rebinding_is_refused_and_the_checked_address_is_the_one_connected(
    no_allow_list, servers, analyst, django_capture_on_commit_callbacks, monkeypatch
):
    """A name that answers a public address when saved and loopback at the push is refused;
    the system resolver is asked once per connection and the socket goes to what it answered."""
    partner = servers()
    answers = {"rebind.test": ["93.184.215.14"], "partner.test": ["127.0.0.1"]}
    asked = []
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in answers:
            return real(host, port, *args, **kwargs)
        asked.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers[host][0], port))]

    monkeypatch.setattr(endpoints.socket, "getaddrinfo", getaddrinfo)
    no_allow_list.PUSH_REQUIRE_HTTPS = False
    set_endpoint(agency("CCB"), url=f"http://rebind.test:{partner.port}/CCB/", secret="s" * 20, acting_user=None)
    delivery = _pending_delivery(analyst, django_capture_on_commit_callbacks)
    answers["rebind.test"] = ["127.0.0.1"]  # the attacker's DNS now answers loopback
    delivery, attempt = _push(delivery)
    assert partner.requests == [] and attempt.error == AttemptFailure.BLOCKED
    assert asked == ["rebind.test", "rebind.test"]  # once when saved, once when connecting

    # The same path to an operator-vouched address: our resolver's answer is where it connects
    # (the system's own resolver knows no "partner.test").
    no_allow_list.PUSH_ALLOWED_HOSTS = [f"127.0.0.1:{partner.port}"]
    set_endpoint(agency("CCB"), url=f"http://partner.test:{partner.port}/CCB/", secret="s" * 20, acting_user=None)
    second = _pending_delivery(analyst, django_capture_on_commit_callbacks)
    second, attempt = _push(second)
    assert attempt.status_code == 202 and second.state == DeliveryState.DELIVERED
    [request] = partner.requests
    assert request["headers"]["Host"] == f"partner.test:{partner.port}"


@pytest.mark.django_db
def test_a_redirect_to_an_internal_address_is_not_followed(
    no_allow_list, servers, analyst, django_capture_on_commit_callbacks
):
    internal = servers()
    allowed = servers(answer=(302, {"Location": f"http://127.0.0.1:{internal.port}/steal"}, b""))
    no_allow_list.PUSH_ALLOWED_HOSTS = [f"127.0.0.1:{allowed.port}"]
    set_endpoint(agency("CCB"), url=f"http://127.0.0.1:{allowed.port}/CCB/", secret="s" * 20, acting_user=None)
    delivery = _pending_delivery(analyst, django_capture_on_commit_callbacks)
    delivery, attempt = _push(delivery)
    assert len(allowed.requests) == 1 and internal.requests == []
    assert attempt.status_code == 302 and attempt.error == AttemptFailure.HTTP_3XX
    assert delivery.state == DeliveryState.PENDING  # retried later, never followed


@pytest.mark.django_db
def test_attempt_errors_name_the_class_of_failure_only(
    no_allow_list, servers, analyst, ccb_liaison, supervisor, django_capture_on_commit_callbacks
):
    no_allow_list.DELIVERY_READ_TIMEOUT = 0.5
    leaky = b'{"detail": "upstream 10.0.0.7:5432 said: account 6217000010012345678 locked"}'
    broken = servers(answer=(503, {"Content-Type": "application/json"}, leaky))
    refusing = servers(answer=(400, {"Content-Type": "application/json"}, leaky))
    slow = servers(delay=2.0)
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()  # nothing listens there: connection refused
    cases = [
        (f"http://127.0.0.1:{broken.port}/CCB/", 503, AttemptFailure.HTTP_5XX),
        (f"http://127.0.0.1:{refusing.port}/CCB/", 400, AttemptFailure.HTTP_4XX),
        (f"http://127.0.0.1:{slow.port}/CCB/", None, AttemptFailure.TIMEOUT),
        (f"http://127.0.0.1:{closed_port}/CCB/", None, AttemptFailure.REFUSED),
        # https:// to a plain-HTTP server: the handshake fails.
        (f"https://127.0.0.1:{broken.port}/CCB/", None, AttemptFailure.TLS),
    ]
    no_allow_list.PUSH_ALLOWED_HOSTS = [f"127.0.0.1:{port}" for port in (broken.port, refusing.port, slow.port)]
    no_allow_list.PUSH_ALLOWED_HOSTS.append(f"127.0.0.1:{closed_port}")
    liaison, centre = APIClient(), APIClient()
    liaison.force_authenticate(ccb_liaison)
    centre.force_authenticate(supervisor)
    for url, status, failure in cases:
        tasks._client = None
        set_endpoint(agency("CCB"), url=url, secret="s" * 20, acting_user=None)
        delivery = _pending_delivery(analyst, django_capture_on_commit_callbacks)
        delivery, attempt = _push(delivery)
        assert (attempt.status_code, attempt.error, delivery.last_error) == (status, failure, failure), url
        seen = liaison.get(reverse("api:delivery-detail", args=[delivery.pk]))
        assert seen.status_code == 200
        text = json.dumps(seen.json())
        for secret in ("10.0.0.7", "6217000010012345678", "127.0.0.1", "Errno", "Connect"):
            assert secret not in text, (url, secret)
        assert seen.json()["attempt_log"][-1]["error"] == failure
        assert seen.json()["partner_reason"] == ""
        page = APIClient()
        page.force_login(ccb_liaison)
        html = page.get(reverse("task-detail", args=[delivery.task_id])).content.decode()
        assert "10.0.0.7" not in html and "Errno" not in html
    # The centre is told what a partner's refusal said (it worked the failed push).
    refused = Delivery.objects.filter(last_status=400).latest("created_at")
    assert "locked" in centre.get(reverse("api:delivery-detail", args=[refused.pk])).json()["partner_reason"]


@pytest.mark.django_db
def test_the_demo_simulator_is_registered_only_through_the_allow_list(no_allow_list, tmp_path, monkeypatch):
    """``make run`` puts its simulator on the allow-list; without it the demo's loopback endpoints are refused."""
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[2] / "scripts"))
    from run import demo_allow_list

    assert demo_allow_list("", 8100) == "127.0.0.1:8100"
    assert demo_allow_list("partner-sim, 127.0.0.1:8100", 8100) == "partner-sim,127.0.0.1:8100"

    config = tmp_path / "simulator.json"
    with pytest.raises(ValidationError):
        call_command("demo_partners", "--simulator-url", "http://127.0.0.1:8100", "--config", str(config))
    no_allow_list.PUSH_ALLOWED_HOSTS = demo_allow_list("", 8100).split(",")
    call_command("demo_partners", "--simulator-url", "http://127.0.0.1:8100", "--config", str(config))
    icbc = Agency.objects.get(code="ICBC")
    assert icbc.endpoint_url == "http://127.0.0.1:8100/ICBC/"
    assert json.loads(config.read_text())["agencies"]["ICBC"]["secret"] == icbc.endpoint_secret
