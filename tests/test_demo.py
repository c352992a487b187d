"""The demo's setup runs on the services as they are (it broke once when they gained an argument),
and its community gets reposted, skipped and reviewed by the pipeline."""

import random

from sqlalchemy import select

from app import demo
from app.models import Action, Block
from app.platforms.mock import community
from app.platforms.mock.world import get_world


async def test_the_demo_sets_up_and_reposts(runtime, pipeline):
    secret = await demo.setup(runtime)
    assert secret
    await pipeline.tick()  # the first poll: the sources' starting point
    world, rng = get_world("default"), random.Random(3)
    for _ in range(60):
        community.step(world, rng)
    await pipeline.tick()
    async with runtime.sessions() as session:
        statuses = [a.status for a in await session.scalars(select(Action))]
        [block] = (await session.scalars(select(Block))).all()
    assert block.pending is False and block.handle == community.SPAMMER
    assert "done" in statuses and "skipped" in statuses
