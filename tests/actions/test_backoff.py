"""The one failure policy of a platform call (sends and undos alike): wait as told, back off, give up."""

from datetime import timedelta

import pytest

from app.config import Settings
from app.db.base import utcnow
from app.models import Account
from app.pipeline.outcome import Unsettled, backoff
from app.platforms.base import ActionRefused, CredentialsInvalid, OutcomeUnknown, PlatformError, RateLimited

SETTINGS = Settings(_env_file=None, retry_base_seconds=10, max_attempts=3)


def _account() -> Account:
    return Account(id=1, platform="mock", handle="coffeeclub", conditions={})


def test_a_rate_limit_is_waited_out_as_told_and_holds_the_account():
    account, until = _account(), utcnow() + timedelta(minutes=7)
    policy = backoff(account, RateLimited("slow down", retry_at=until, bucket="likes"), attempts=3, settings=SETTINGS)
    assert policy.at == until and policy.told_to_wait  # even after the last attempt: waiting is not failing
    assert account.conditions["rate_limited:likes"]["until"] == until.isoformat()


def test_refused_credentials_wait_five_minutes_and_say_so_on_the_account():
    account = _account()
    policy = backoff(account, CredentialsInvalid("401"), attempts=1, settings=SETTINGS)
    assert policy.told_to_wait and timedelta(minutes=4) < policy.at - utcnow() <= timedelta(minutes=5)
    assert account.status == "needs_attention"


@pytest.mark.parametrize(("attempts", "seconds"), [(1, 10), (2, 20)])
def test_a_retryable_error_backs_off_exponentially_until_the_last_attempt(attempts, seconds):
    policy = backoff(_account(), PlatformError("502"), attempts=attempts, settings=SETTINGS)
    assert not policy.told_to_wait
    assert timedelta(seconds=seconds - 1) < policy.at - utcnow() <= timedelta(seconds=seconds)


@pytest.mark.parametrize("error", [PlatformError("502"), ActionRefused("no likes"),
                                   PlatformError("400", retryable=False)])
def test_it_gives_up_after_the_last_attempt_or_on_an_error_retrying_cannot_mend(error):
    attempts = SETTINGS.max_attempts if error.retryable else 1
    assert backoff(_account(), error, attempts=attempts, settings=SETTINGS).at is None


def test_an_unknown_outcome_is_not_asked_about_again_before_the_platform_allows():
    later = utcnow() + timedelta(hours=1)
    assert backoff(_account(), Unsettled("cannot ask", retry_at=later), attempts=1, settings=SETTINGS).at == later
    soon = backoff(_account(), OutcomeUnknown("timeout"), attempts=1, settings=SETTINGS).at
    assert soon is not None and soon - utcnow() <= timedelta(seconds=10)
