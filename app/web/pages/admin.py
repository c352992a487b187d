"""The dashboard's admin pages."""

from fastapi import APIRouter

router = APIRouter()
