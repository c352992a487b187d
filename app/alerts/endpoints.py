"""Alert subscriptions: webhooks (json, Slack, Discord, Matrix) or email when an account needs a person."""

from typing import Annotated

from fastapi import APIRouter, Query, status

from app.alerts import repository, service
from app.alerts.schemas import (
    AlertDeliveryRead,
    AlertIncidentRead,
    AlertSecret,
    AlertSubscriptionCreate,
    AlertSubscriptionCreated,
    AlertSubscriptionRead,
    AlertSubscriptionUpdate,
)
from app.deps import CallerDep, PageDep, RuntimeDep, SessionDep
from app.errors import error_responses
from app.inputs import MAX_ID
from app.pagination import Page, PathId

router = APIRouter(prefix="/alerts", tags=["alerts"])
SUBSCRIPTION = "/subscriptions/{subscription_id}"


@router.post("/subscriptions", status_code=status.HTTP_201_CREATED, response_model=AlertSubscriptionCreated,
             responses=error_responses(403, 404))
async def create_subscription(data: AlertSubscriptionCreate, session: SessionDep, caller: CallerDep,
                              runtime: RuntimeDep):
    """Subscribe a webhook or an address to an account's alerts (no account: every account, admins
    only). The answer holds the signing secret, shown this once."""
    subscription, secret = await service.create(session, runtime=runtime, data=data, caller=caller)
    return AlertSubscriptionCreated(**AlertSubscriptionRead.model_validate(subscription).model_dump(), secret=secret)


@router.get("/subscriptions", response_model=Page[AlertSubscriptionRead], responses=error_responses(403))
async def list_subscriptions(session: SessionDep, caller: CallerDep, page: PageDep,
                             account_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None):
    """The subscriptions the caller may configure, oldest first (optionally of one account)."""
    ids = await service.visible_ids(caller)
    return await repository.page(session, account_ids=ids, account_id=account_id, page=page,
                                 into=AlertSubscriptionRead.model_validate)


@router.get(SUBSCRIPTION, response_model=AlertSubscriptionRead, responses=error_responses(403, 404))
async def get_subscription(subscription_id: PathId, session: SessionDep, caller: CallerDep):
    """One subscription (never its secret)."""
    return await service.get_for(session, subscription_id=subscription_id, caller=caller)


@router.patch(SUBSCRIPTION, response_model=AlertSubscriptionRead, responses=error_responses(403, 404))
async def update_subscription(subscription_id: PathId, data: AlertSubscriptionUpdate, session: SessionDep,
                              caller: CallerDep, runtime: RuntimeDep):
    """Change a subscription; its incidents stay as they are."""
    subscription = await service.get_for(session, subscription_id=subscription_id, caller=caller)
    return await service.update(session, subscription=subscription, data=data, runtime=runtime, caller=caller)


@router.delete(SUBSCRIPTION, status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(403, 404))
async def delete_subscription(subscription_id: PathId, session: SessionDep, caller: CallerDep) -> None:
    """Remove a subscription, its incidents and its unsent messages."""
    subscription = await service.get_for(session, subscription_id=subscription_id, caller=caller)
    await service.delete(session, subscription=subscription, caller=caller)


@router.post(SUBSCRIPTION + "/secret", response_model=AlertSecret, responses=error_responses(403, 404))
async def renew_secret(subscription_id: PathId, session: SessionDep, caller: CallerDep, runtime: RuntimeDep):
    """A new signing secret, shown this once; the old one stops at once."""
    subscription = await service.get_for(session, subscription_id=subscription_id, caller=caller)
    return AlertSecret(secret=await service.renew_secret(session, subscription=subscription, runtime=runtime,
                                                         caller=caller))


@router.post(SUBSCRIPTION + "/test", status_code=status.HTTP_202_ACCEPTED, response_model=AlertDeliveryRead,
             responses=error_responses(403, 404))
async def send_test(subscription_id: PathId, session: SessionDep, caller: CallerDep):
    """Queue a test message (event `alert.test`); the alerts job sends it within its interval."""
    subscription = await service.get_for(session, subscription_id=subscription_id, caller=caller)
    return await service.send_test(session, subscription=subscription)


@router.get(SUBSCRIPTION + "/deliveries", response_model=Page[AlertDeliveryRead], responses=error_responses(403, 404))
async def list_deliveries(subscription_id: PathId, session: SessionDep, caller: CallerDep, page: PageDep):
    """The subscription's messages, newest first: status, attempts, next attempt, last error."""
    await service.get_for(session, subscription_id=subscription_id, caller=caller)
    return await repository.deliveries(session, subscription_id=subscription_id, page=page,
                                       into=AlertDeliveryRead.model_validate)


@router.get(SUBSCRIPTION + "/incidents", response_model=Page[AlertIncidentRead], responses=error_responses(403, 404))
async def list_incidents(subscription_id: PathId, session: SessionDep, caller: CallerDep, page: PageDep):
    """What the subscription was told about, latest first (resolved_at null: still open)."""
    await service.get_for(session, subscription_id=subscription_id, caller=caller)
    return await repository.incidents(session, subscription_id=subscription_id, page=page,
                                      into=AlertIncidentRead.model_validate)
