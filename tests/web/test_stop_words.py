""""Stop" by mention on the account page: saved through its form, refused values shown, read only for moderators."""

from __future__ import annotations

from app.auth.caller import Role
from tests.api.helpers import API, make_account


async def test_the_stop_form_saves_what_the_api_reads_and_refuses_bad_words(client, admin, web):
    account = await make_account(client, admin, stop_words=None)
    url = f"/accounts/{account['id']}"
    person = await web(Role.organizer, [account["id"]])
    shown = (await person.get(url)).text
    assert 'id="stop"' in shown and "#nobot" in shown and "mentions" in shown
    assert 'name="stop_reply"' in shown and "I won&#39;t repost your posts any more." in shown
    answer = await person.post(f"{url}/settings/stop", {"stop_enabled": "on", "stop_words": "Halt\n\n#NoBot\n",
                                                         "stop_undo": "on", "stop_reply": "on",
                                                         "stop_reply_text": " Done: no more reposts. "})
    assert answer.status_code == 303, answer.text
    read = (await client.get(f"{API}{url}", headers=admin)).json()["stop_words"]
    assert read == {"enabled": True, "words": ["halt", "#nobot"], "undo_existing": True, "reply": True,
                    "reply_text": "Done: no more reposts."}
    assert "Stop words saved." in (page := await person.get(answer.headers["location"])).text
    assert 'id="f-stop_reply" name="stop_reply" value="on" checked' in page.text

    bad = await person.post(f"{url}/settings/stop", {"stop_enabled": "on", "stop_words": "two words"})
    assert bad.status_code == 422 and "one word" in bad.text and "two words" in bad.text
    long = await person.post(f"{url}/settings/stop", {"stop_enabled": "on", "stop_words": "stop", "stop_reply": "on",
                                                       "stop_reply_text": "x" * 281})
    assert long.status_code == 422 and "280 characters" in long.text and 'id="f-stop_reply_text-error"' in long.text
    assert (await client.get(f"{API}{url}", headers=admin)).json()["stop_words"] == read

    moderator = await web(Role.moderator, [account["id"]])
    assert "settings/stop" not in (page := await moderator.get(url)).text and "halt, #nobot" in page.text
    assert "Done: no more reposts." in page.text
    assert (await moderator.post(f"{url}/settings/stop", {"stop_words": "stop"})).status_code == 403
