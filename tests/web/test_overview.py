"""The overview and the account pages over HTTP: numbers as the database holds them, the chart,
settings saved through the forms (and refused ones), permissions, and the effect preview."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update

from app.accounts.conditions import Severity, set_condition
from app.accounts.summary import hours_until
from app.actions.reasons import KINDS, REPOSTED, kind_of
from app.actions.repository import hourly_outcomes
from app.auth.caller import Role
from app.models import Account, Action, ActionStatus, Cursor
from app.web.charts import hourly_chart
from tests.api.helpers import API, actions, ingest, make_account, make_rule, world


async def seeded(client, admin, pipeline, runtime) -> dict:
    """An account that reposted 3 English #coffee posts (one of them yesterday) and skipped 2 German ones
    (language filter), with one more waiting for review."""
    account = await make_account(client, admin)
    await make_rule(client, admin, account["id"], "#coffee")
    await make_rule(client, admin, account["id"], "#tea", review=True)
    response = await client.put(f"{API}/accounts/{account['id']}/filters", json={"languages": ["en"]}, headers=admin)
    assert response.status_code == 200, response.text
    posts = [world().publish("alice", f"cup {i} #coffee", lang="en") for i in range(3)]
    posts += [world().publish("bruno", f"Tasse {i} #coffee", lang="de") for i in range(2)]
    posts.append(world().publish("carla", "green #tea", lang="en"))
    await ingest(client, admin, posts)
    await pipeline.tick(poll=False)
    async with runtime.sessions() as session, session.begin():
        first = await session.scalar(select(func.min(Action.id)).where(Action.status == ActionStatus.done))
        await session.execute(update(Action).where(Action.id == first)
                              .values(sent_at=datetime.now(UTC) - timedelta(days=1, hours=1)))
    return account


async def db_counts(runtime, account_id: int) -> dict[str, int]:
    """What the database holds, counted plainly."""
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    async with runtime.sessions() as session:
        rows = (await session.scalars(select(Action).where(Action.account_id == account_id))).all()
    return {"reposted_today": sum(1 for a in rows if a.sent_at and a.sent_at >= today),
            "reposted_week": sum(1 for a in rows if a.sent_at),
            "skipped_today": sum(1 for a in rows if a.status == "skipped"),
            "review": sum(1 for a in rows if a.status == "review"),
            "queued": sum(1 for a in rows if a.status == "queued")}


def stat(html: str, label: str) -> int:
    found = re.search(rf"<dt>{label}</dt><dd class=\"stat\">(\d+)</dd>", html)
    assert found, f"no {label!r} on the page"
    return int(found.group(1))


async def test_overview_numbers_match_the_database(client, admin, pipeline, runtime, web):
    account = await seeded(client, admin, pipeline, runtime)
    person = await web(Role.organizer, [account["id"]])
    page = await person.get("/")
    assert page.status_code == 200
    held = await db_counts(runtime, account["id"])
    assert held["reposted_week"] == 3 and held["skipped_today"] == 2 and held["review"] == 1
    assert stat(page.text, "Reposted today") == held["reposted_today"] == 2
    assert stat(page.text, "Skipped today") == 2
    assert stat(page.text, "Waiting") == held["queued"] + held["review"] == 1
    assert "0 queued, 1 for review" in page.text
    assert stat(page.text, "Reviewed today") == 0


async def test_the_chart_carries_the_weeks_totals(client, admin, pipeline, runtime, web):
    account = await seeded(client, admin, pipeline, runtime)
    person = await web(Role.organizer, [account["id"]])
    page = await person.get("/")
    svg = re.search(r"<svg role=\"img\".*?</svg>", page.text, re.S)
    assert svg, "no chart"
    assert f'aria-labelledby="chart-{account["id"]}-title chart-{account["id"]}-desc"' in svg.group(0)
    assert "3 reposted and 2 skipped (2 language)" in svg.group(0)
    assert svg.group(0).count("<rect") == 3  # today's hour: reposts and language skips; yesterday's: one repost
    assert "reposted (3)" in page.text and "skipped: language (2)" in page.text  # the legend
    table = re.search(r"<table class=\"data\">.*?</table>", page.text, re.S)
    assert table and "<th scope=\"col\">skipped: language</th>" in table.group(0)
    assert len(re.findall(r"<tr><th scope=\"row\">", table.group(0))) == 2  # two hours with anything in them
    own = await person.get(f"/accounts/{account['id']}")  # the account's page draws the same chart
    assert "3 reposted and 2 skipped (2 language)" in own.text and own.text.count("<svg role=\"img\"") == 1


async def test_reviews_today_count_decisions(client, admin, pipeline, runtime, web):
    account = await seeded(client, admin, pipeline, runtime)
    [waiting] = await actions(client, admin, account["id"], status="review")
    assert (await client.post(f"{API}/actions/{waiting['id']}/approve", headers=admin)).status_code == 200
    person = await web(Role.moderator, [account["id"]])
    page = await person.get("/")
    assert stat(page.text, "Reviewed today") == 1


async def test_accounts_list_links_the_connect_page(client, admin, web):
    account = await make_account(client, admin)
    person = await web(Role.admin)
    page = await person.get("/accounts")
    assert page.status_code == 200
    assert 'href="/accounts/new"' in page.text and f'href="/accounts/{account["id"]}"' in page.text
    assert "active" in page.text and "mock" in page.text


LIMITS = {"max_per_hour": "5", "max_per_day": "30", "min_interval_seconds": "120", "quiet_hours_start": "22:00",
          "quiet_hours_end": "07:00", "timezone": "Europe/Berlin", "max_queue_age_seconds": ""}


async def test_limits_saved_through_the_form_show_in_the_api(client, admin, web):
    account = await make_account(client, admin)
    person = await web(Role.organizer, [account["id"]])
    answer = await person.post(f"/accounts/{account['id']}/settings/limits", LIMITS)
    assert answer.status_code == 303, answer.text
    read = (await client.get(f"{API}/accounts/{account['id']}", headers=admin)).json()
    assert read["limits"] == {"max_per_hour": 5, "max_per_day": 30, "min_interval_seconds": 120,
                              "quiet_hours_start": "22:00", "quiet_hours_end": "07:00", "timezone": "Europe/Berlin",
                              "max_queue_age_seconds": None}
    shown = await person.get(answer.headers["location"])
    assert "Limits saved." in shown.text and 'value="Europe/Berlin"' in shown.text


async def test_filters_and_sources_saved_through_the_forms(client, admin, web):
    account = await make_account(client, admin)
    person = await web(Role.organizer, [account["id"]])
    answer = await person.post(f"/accounts/{account['id']}/settings/filters",
                               {"languages": "en, DE", "exclude_replies": "on", "min_followers": "10",
                                "banned_words": "giveaway\ncrypto airdrop\n", "duplicate_window_minutes": "60"})
    assert answer.status_code == 303, answer.text
    filters = (await client.get(f"{API}/accounts/{account['id']}/filters", headers=admin)).json()
    assert filters["languages"] == ["en", "de"] and filters["exclude_replies"] is True
    assert filters["min_followers"] == 10 and filters["banned_words"] == ["giveaway", "crypto airdrop"]
    assert filters["duplicate_window_minutes"] == 60 and filters["max_links"] is None
    answer = await person.post(f"/accounts/{account['id']}/settings/account", {"sources": "tag:coffee\n\nhome"})
    assert answer.status_code == 303, answer.text
    read = (await client.get(f"{API}/accounts/{account['id']}", headers=admin)).json()
    assert read["sources"] == ["tag:coffee", "home"] and read["enabled"] is False  # the box was left unticked


async def test_the_filters_form_shows_and_keeps_the_content_warning_and_label_settings(client, admin, web):
    """PUT replaces all filters: the form carries every one, so saving it loses none set through the API."""
    account = await make_account(client, admin)
    url = f"{API}/accounts/{account['id']}/filters"
    put = await client.put(url, headers=admin, json={"content_warnings": "review", "sensitive": "skip",
                                                      "labels_skip": ["spam"], "labels_review": ["!warn"]})
    assert put.status_code == 200, put.text
    person = await web(Role.organizer, [account["id"]])
    shown = (await person.get(f"/accounts/{account['id']}")).text
    assert re.search(r'<option value="review" selected>', shown) and 'value="spam"' in shown
    form = {"content_warnings": "review", "sensitive": "skip", "labels_skip": "spam, porn", "labels_review": "!warn"}
    assert (await person.post(f"/accounts/{account['id']}/settings/filters", form)).status_code == 303
    filters = (await client.get(url, headers=admin)).json()
    assert (filters["content_warnings"], filters["sensitive"]) == ("review", "skip")
    assert filters["labels_skip"] == ["spam", "porn"] and filters["labels_review"] == ["!warn"]
    bad = await person.post(f"/accounts/{account['id']}/settings/filters", {**form, "sensitive": "sometimes"})
    assert bad.status_code == 422 and (await client.get(url, headers=admin)).json()["labels_skip"] == ["spam", "porn"]


async def test_a_bad_value_is_a_422_next_to_its_field_and_nothing_changes(client, admin, web):
    account = await make_account(client, admin)
    before = (await client.get(f"{API}/accounts/{account['id']}", headers=admin)).json()["limits"]
    person = await web(Role.organizer, [account["id"]])
    answer = await person.post(f"/accounts/{account['id']}/settings/limits",
                               {**LIMITS, "max_per_hour": "0", "timezone": "Mars/Olympus"})
    assert answer.status_code == 422
    html = answer.text
    hour = re.search(r'<input id="f-max_per_hour".*?</div>', html, re.S).group(0)
    assert 'aria-invalid="true"' in hour and 'value="0"' in hour
    assert 'id="f-max_per_hour-error">Input should be greater than or equal to 1<' in hour
    assert "unknown time zone &#39;Mars/Olympus&#39;" in html and 'value="Mars/Olympus"' in html
    assert "Not saved: fix the 2 fields marked below." in html
    assert (await client.get(f"{API}/accounts/{account['id']}", headers=admin)).json()["limits"] == before
    answer = await person.post(f"/accounts/{account['id']}/settings/filters", {"languages": "english"})
    assert answer.status_code == 422 and "not language codes" in answer.text and 'value="english"' in answer.text
    answer = await person.post(f"/accounts/{account['id']}/settings/limits", {**LIMITS, "quiet_hours_end": ""})
    assert answer.status_code == 422 and "quiet hours need both" in answer.text


async def test_a_moderator_sees_settings_read_only_and_cannot_post(client, admin, web):
    account = await make_account(client, admin)
    person = await web(Role.moderator, [account["id"]])
    page = await person.get(f"/accounts/{account['id']}")
    assert page.status_code == 200 and "an organizer or an admin changes them" in page.text
    assert "settings/limits" not in page.text and "<form class=\"card\"" not in page.text
    for which in ("limits", "filters", "account", "preview"):
        answer = await person.post(f"/accounts/{account['id']}/settings/{which}", {**LIMITS, "form": "limits"})
        assert answer.status_code == 403, which
    read = (await client.get(f"{API}/accounts/{account['id']}", headers=admin)).json()
    assert read["limits"]["max_per_hour"] != 5


async def test_another_accounts_pages_are_not_found(client, admin, web):
    mine = await make_account(client, admin)
    other = await make_account(client, admin, handle="teahouse")
    person = await web(Role.organizer, [mine["id"]])
    assert (await person.get(f"/accounts/{other['id']}")).status_code == 404
    assert (await person.post(f"/accounts/{other['id']}/settings/limits", LIMITS)).status_code == 404
    assert (await person.post(f"/accounts/{other['id']}/settings/preview", {"form": "limits"})).status_code == 404
    assert "teahouse" not in (await person.get("/")).text
    assert "teahouse" not in (await person.get("/accounts")).text
    assert (await person.post(f"/accounts/{mine['id']}/settings/nothing", {})).status_code == 404
    no_csrf = await person.http.post(f"/accounts/{mine['id']}/settings/limits", data=LIMITS)
    assert no_csrf.status_code == 403


async def test_preview_counts_what_the_settings_would_change(client, admin, pipeline, runtime, web):
    """Four English posts and one German, matched a minute apart: with languages=en the German one
    is skipped; with at most 2 an hour the last two English ones wait."""
    account = await make_account(client, admin)
    await make_rule(client, admin, account["id"], "#coffee")
    posts = [world().publish("alice", f"cup {i} #coffee", lang="en") for i in range(4)]
    posts.append(world().publish("bruno", "Tasse #coffee", lang="de"))
    await ingest(client, admin, posts)
    await pipeline.tick(poll=False)
    async with runtime.sessions() as session, session.begin():
        start = datetime.now(UTC) - timedelta(hours=3)
        for i, action_id in enumerate(sorted(await session.scalars(select(Action.id)))):
            await session.execute(update(Action).where(Action.id == action_id)
                                  .values(created_at=start + timedelta(minutes=i)))
    person = await web(Role.organizer, [account["id"]])
    url = f"/accounts/{account['id']}/settings/preview"
    answer = await person.post(url, {"form": "filters", "languages": "en"})
    assert answer.status_code == 200, answer.text
    assert "With these settings, 1 of the last 5 matches would have been skipped, 0 delayed." in answer.text
    assert "With the saved settings: 0 skipped, 0 delayed." in answer.text
    assert "1 match would change" in answer.text and "Tasse #coffee" in answer.text
    assert "skipped: filter: language de not in en" in answer.text
    answer = await person.post(url, {"form": "limits", "max_per_hour": "2", "timezone": "UTC"})
    assert "With these settings, 0 of the last 5 matches would have been skipped, 3 delayed." in answer.text
    assert "sent after 58 min" in answer.text
    answer = await person.post(url, {"form": "limits", "max_per_hour": "2", "max_queue_age_seconds": "600"})
    assert "3 of the last 5 matches would have been skipped, 0 delayed" in answer.text
    answer = await person.post(url, {"form": "limits", "max_per_hour": "-3"})
    assert answer.status_code == 200 and "fix these first" in answer.text and "max per hour" in answer.text
    assert (await client.get(f"{API}/accounts/{account['id']}", headers=admin)).json()["limits"]["max_per_hour"] is None


async def test_the_overview_shows_the_health_the_api_gives(client, admin, runtime, web):
    account = await make_account(client, admin)
    now = datetime.now(UTC)
    async with runtime.sessions() as session, session.begin():
        row = await session.get(Account, account["id"])
        set_condition(row, "credentials", severity=Severity.attention, message="the platform refused the token")
        set_condition(row, "rate_limited:account", severity=Severity.limit, message="429 from the platform",
                      until=now + timedelta(minutes=20), bucket="account", holds="all")
        session.add(Cursor(account_id=account["id"], source="tag:coffee", last_polled_at=now, error="HTTP 503 busy",
                           error_kind="http", error_status=503, error_at=now, consecutive_failures=3))
    health = (await client.get(f"{API}/accounts/{account['id']}/health", headers=admin)).json()
    assert health["status"] == "needs_attention" and health["rate_limits"]
    person = await web(Role.organizer, [account["id"]])
    for url in ("/", f"/accounts/{account['id']}"):
        html = (await person.get(url)).text
        assert "needs attention" in html and "the platform refused the token" in html
        assert "Rate limited</strong> (account) until" in html and "429 from the platform" in html
        assert "Source tag:coffee failing</strong> (3 in a row): HTTP 503 busy (HTTP 503)" in html
        assert "Nothing needs attention." not in html


async def test_skip_kinds_are_grouped_alike_in_sql_and_python(client, admin, pipeline, runtime):
    """Every kind of reason, counted by the database's CASE, lands where kind_of puts it (`_` is no wildcard)."""
    account = await make_account(client, admin)
    await make_rule(client, admin, account["id"], "#coffee")
    reasons = [*(prefix + " x" for prefix, _ in KINDS), "own post", "filter: minXfollowers 3", "scopes: x", None]
    await ingest(client, admin, [world().publish("alice", f"cup {i} #coffee") for i in range(len(reasons))])
    await pipeline.tick(poll=False)
    async with runtime.sessions() as session, session.begin():
        ids = sorted(await session.scalars(select(Action.id)))
        assert len(ids) == len(reasons)
        for action_id, reason in zip(ids, reasons, strict=True):
            await session.execute(update(Action).where(Action.id == action_id)
                                  .values(status="skipped", reason=reason, updated_at=datetime.now(UTC)))
    async with runtime.sessions() as session:
        rows = await hourly_outcomes(session, account_ids=[account["id"]], since=datetime.now(UTC) - timedelta(hours=1))
    counted = {kind: count for _, _, kind, count in rows}
    expected: dict[str, int] = {}
    for reason in reasons:
        expected[kind_of(reason)] = expected.get(kind_of(reason), 0) + 1
    assert counted == expected
    assert expected["other filter"] == 2 and expected["other"] == 3


def test_the_chart_keeps_five_skip_kinds_and_folds_the_rest():
    hours = hours_until(datetime(2026, 11, 30, 12, 30, tzinfo=UTC))
    counts = {kind: [0] * len(hours) for kind in ("language", "followers", "blocked", "duplicate", "banned word",
                                                   "not in scope", "other", REPOSTED)}
    for n, kind in enumerate(counts):
        counts[kind][-1 - n] = 10 - n  # language 10, followers 9, ... not in scope 5, other 4, reposted 3
    chart = hourly_chart("c", subject="club", hours=hours, counts=counts)
    assert [s.label for s in chart.series] == ["reposted", "skipped: language", "skipped: followers",
                                               "skipped: blocked", "skipped: duplicate", "skipped: banned word",
                                               "skipped: other"]
    assert chart.series[-1].total == 5 + 4  # not in scope and other
    assert chart.desc.startswith("3 reposted and 49 skipped (10 language, 9 followers")
    assert "Busiest hour: Mon 30 Nov 12:00 with 10." in chart.desc
    assert len({s.colour for s in chart.series}) == len(chart.series)
    assert len(chart.rows) == 8 and chart.svg.count("<rect") == 8
    empty = hourly_chart("e", subject="club", hours=hours, counts={})
    assert empty.empty and "Nothing was reposted or skipped" in empty.svg


async def test_an_admin_sees_every_account_and_is_told_when_there_is_none(client, admin, web):
    person = await web(Role.admin)
    html = (await person.get("/")).text
    assert "You reach no account yet" in html and 'href="/accounts/new">Connect an account' in html
    await make_account(client, admin)
    await make_account(client, admin, handle="teahouse")
    assert (await person.get("/")).text.count('class="card account-card"') == 2
