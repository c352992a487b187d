"""/ingest: push posts in (webhook feeds, the mock platform, tests)."""

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.deps import CallerDep, RuntimeDep, SessionDep
from app.errors import Invalid, error_responses
from app.pipeline import inbox, push
from app.platforms.base import Post
from app.platforms.registry import available

router = APIRouter(tags=["ingest"], responses=error_responses(403))


class IngestRequest(BaseModel):
    """Posts pushed in from outside the platforms' feeds (a webhook, the mock platform, tests)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"platform": "mock", "posts": [{"platform": "mock", "id": "1", "author": {"id": "7", "handle": "barista"},
                                        "text": "fresh #coffee today"}]}]})

    platform: str = Field(examples=["mock"], description="the platform every post is from")
    posts: list[Post] = Field(max_length=5000, description="the posts, normalized; at most 5000")

    @model_validator(mode="after")
    def _same_platform(self) -> "IngestRequest":
        wrong = [p.id for p in self.posts if p.platform != self.platform]
        if wrong:
            raise ValueError(f"posts {wrong[:5]} are not from platform {self.platform!r}")
        # the inbox keeps these in 255-character columns
        long = [p.id[:40] for p in self.posts if max(len(p.id), len(p.author.id), len(p.author.handle)) > 255]
        if long:
            raise ValueError(f"posts {long[:5]}: ids and author handles are at most 255 characters")
        return self


class IngestResult(BaseModel):
    """How many posts came, and how many the inbox had not seen."""

    received: int = Field(description="posts in the request")
    new: int = Field(description="posts not seen before (the rest were ignored)")


@router.post("/ingest", status_code=status.HTTP_202_ACCEPTED, response_model=IngestResult)
async def ingest(data: IngestRequest, session: SessionDep, caller: CallerDep, runtime: RuntimeDep):
    """Add posts to the inbox; a worker matches them, and sends what its limits allow, at once. A post
    seen before is ignored."""
    caller.require_admin()
    if data.platform not in available():
        raise Invalid(f"unknown platform {data.platform!r}")
    new = await inbox.store(session, data.posts)
    if new:  # once the request's transaction commits, the push path wakes (app/pipeline/push.py)
        await push.announce(session, runtime)
    return IngestResult(received=len(data.posts), new=new)
