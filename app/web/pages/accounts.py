"""The dashboard's accounts pages."""

from fastapi import APIRouter

router = APIRouter()
