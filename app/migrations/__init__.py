"""Alembic's script directory (env.py, script.py.mako, versions/), shipped inside the package so a wheel
carries it; `reposter migrate` and the root alembic.ini both point here. See docs/decisions.md, Packaging."""
