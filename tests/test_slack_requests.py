"""HTTP mode refuses what is not a valid, signed Slack request: 401 for a bad or missing signature, 400 for a
signed but malformed body, never 500, each logged in one line without a traceback."""

from __future__ import annotations

import json
import logging
from urllib.parse import urlencode

import pytest

from tests.conftest import LEAD, SlackDriver, sign
from tests.fakeslack import FakeSlack

FORM = "application/x-www-form-urlencoded"


def interaction_body(payload: object) -> bytes:
    return urlencode({"payload": payload if isinstance(payload, str) else json.dumps(payload)}).encode()


def no_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    for record in caplog.records:
        assert record.exc_info is None, record.getMessage()
        assert "\n" not in record.getMessage()
    assert not any(r.levelno >= logging.ERROR for r in caplog.records)


async def test_unsigned_or_forged_requests_get_401_even_when_broken(slack: SlackDriver, fake_slack: FakeSlack,
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    broken = interaction_body("{not json")
    unsigned = await slack.post(broken, FORM, headers={})
    forged = await slack.post(broken, FORM, headers=sign(broken, secret="wrong"))
    stale = await slack.post(broken, FORM, headers=sign(broken, timestamp=1_600_000_000))
    listed = b"[1, 2, 3]"
    unsigned_json = await slack.post(listed, "application/json", headers={})
    assert [r.status for r in (unsigned, forged, stale, unsigned_json)] == [401, 401, 401, 401]
    assert fake_slack.calls == []
    refused = [r.getMessage() for r in caplog.records if r.name == "handlers.requests"]
    assert len(refused) == 4 and all("refused Slack request" in line for line in refused)
    no_tracebacks(caplog)


@pytest.mark.parametrize(("body", "content_type"), [
    (interaction_body("{not json"), FORM),
    (interaction_body([1, 2]), FORM),
    (interaction_body({"user": {"id": LEAD}, "view": {"callback_id": "conf:create", "state": {"values": {}}}}), FORM),
    (interaction_body({"type": "view_submission", "user": {"id": LEAD}, "view": "x"}), FORM),
    (interaction_body({"type": "view_submission", "user": {"id": LEAD},
                       "view": {"callback_id": "conf:create", "state": {"values": [1]}}}), FORM),
    (interaction_body({"type": "block_actions", "user": {"id": LEAD}, "actions": "survey:answer"}), FORM),
    (interaction_body({"type": "block_actions", "user": {"id": LEAD},
                       "actions": [{"action_id": "survey:answer", "value": 12}]}), FORM),
    (interaction_body({"type": "block_actions", "actions": [{"action_id": "x"}]}), FORM),
    (b"[1, 2, 3]", "application/json"),
    (b"{\"type\": \"event_callback\", \"event\": []}", "application/json"),
    (b"{\"type\": \"event_callback\", \"event\": {\"type\": \"message\", \"text\": 5}}", "application/json"),
    (b"\xff\xfe\x00", FORM),
    (b"command=%2Fsyv&user_id=U1&command=%2Fsyv", FORM),
    (b"hello", "text/plain"),
    (b"nothing=here", FORM),
])
async def test_signed_but_malformed_requests_get_400(slack: SlackDriver, fake_slack: FakeSlack,
                                                     caplog: pytest.LogCaptureFixture, body: bytes,
                                                     content_type: str) -> None:
    response = await slack.post(body, content_type)
    assert response.status == 400
    assert fake_slack.calls == []
    no_tracebacks(caplog)


async def test_well_formed_requests_still_reach_the_bot(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    assert (await slack.command("hjälp")).status == 200
    challenge = json.dumps({"type": "url_verification", "challenge": "abc", "token": "x"}).encode()
    response = await slack.post(challenge, "application/json")
    assert response.status == 200
