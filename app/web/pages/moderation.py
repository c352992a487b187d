"""The dashboard's moderation pages."""

from fastapi import APIRouter

router = APIRouter()
