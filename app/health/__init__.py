"""Liveness, readiness and metrics: the routes in endpoints.py, their queries in repository.py."""

from app.health.endpoints import router

__all__ = ["router"]
