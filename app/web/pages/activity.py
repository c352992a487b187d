"""The dashboard's activity pages."""

from fastapi import APIRouter

router = APIRouter()
