"""Rules of an account, and the rule language's validate and explain."""

from fastapi import APIRouter, status

from app.accounts.service import get_for
from app.auth.caller import Capability
from app.deps import CallerDep, PageDep, RuntimeDep, SessionDep
from app.errors import AppError, error_responses
from app.pagination import Page, PathId
from app.rules import repository, service
from app.rules.preview import preview
from app.rules.schemas import (
    ExplainRequest,
    ExplainResult,
    PreviewRequest,
    PreviewResult,
    RuleCreate,
    RuleRead,
    RuleUpdate,
    ValidateRequest,
    ValidateResult,
)

router = APIRouter(tags=["rules"])


@router.post("/accounts/{account_id}/rules", status_code=status.HTTP_201_CREATED, response_model=RuleRead,
             responses=error_responses(403, 404))
async def create_rule(account_id: PathId, data: RuleCreate, session: SessionDep, caller: CallerDep,
                      runtime: RuntimeDep):
    """Add a rule; an unparsable query is a 422 with the message and position, a name (`from:`,
    `to:`, `@`, `users:`) nobody has is a 422 naming it; the others are resolved to the authors' ids."""
    account = await get_for(session, account_id=account_id, caller=caller, need=Capability.configure)
    return await service.create(session, runtime=runtime, account=account, data=data, caller=caller)


@router.get("/accounts/{account_id}/rules", response_model=Page[RuleRead], responses=error_responses(404))
async def list_rules(account_id: PathId, session: SessionDep, caller: CallerDep,
                     page: PageDep):
    """The account's rules, highest priority first."""
    await get_for(session, account_id=account_id, caller=caller, need=Capability.read)
    return await repository.page(session, account_id=account_id, page=page, into=RuleRead.model_validate)


async def _rule_for(session, caller, rule_id: PathId, need: Capability):
    rule = await service.get(session, rule_id=rule_id)
    if not caller.reaches(rule.account_id):
        raise AppError(f"rule {rule_id} not found", status_code=404, error="not found")
    account = await get_for(session, account_id=rule.account_id, caller=caller, need=need)
    return rule, account


@router.get("/rules/{rule_id}", response_model=RuleRead, responses=error_responses(404))
async def get_rule(rule_id: PathId, session: SessionDep, caller: CallerDep):
    """One rule."""
    rule, _ = await _rule_for(session, caller, rule_id, Capability.read)
    return rule


@router.patch("/rules/{rule_id}", response_model=RuleRead, responses=error_responses(403, 404))
async def update_rule(rule_id: PathId, data: RuleUpdate, session: SessionDep, caller: CallerDep, runtime: RuntimeDep):
    """Change a rule; it takes effect for the next post (names it held keep the ids they had)."""
    rule, account = await _rule_for(session, caller, rule_id, Capability.configure)
    return await service.update(session, runtime=runtime, rule=rule, account=account, data=data, caller=caller)


@router.delete("/rules/{rule_id}", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(403, 404))
async def delete_rule(rule_id: PathId, session: SessionDep, caller: CallerDep) -> None:
    """Remove a rule."""
    rule, _ = await _rule_for(session, caller, rule_id, Capability.configure)
    await service.delete(session, rule=rule, caller=caller)


@router.post("/rules/validate", response_model=ValidateResult)
async def validate_query(data: ValidateRequest, caller: CallerDep):
    """Check a query: `{valid, normalized, error: {message, position}}` (always 200)."""
    return service.validated(data.query, data.scope)


@router.post("/rules/explain", response_model=ExplainResult)
async def explain_query(data: ExplainRequest, caller: CallerDep):
    """Which terms of the query held for the post, in the order of the query."""
    return service.explained(data.query, data.scope, data.post)


@router.post("/accounts/{account_id}/preview", response_model=PreviewResult, responses=error_responses(404))
async def preview_rule(account_id: PathId, data: PreviewRequest, session: SessionDep, caller: CallerDep,
                       runtime: RuntimeDep):
    """What a rule (given, or by rule_id) would do with posts (given, or recently seen), with explanations."""
    account = await get_for(session, account_id=account_id, caller=caller, need=Capability.read)
    return await preview(session, runtime, account=account, data=data)
