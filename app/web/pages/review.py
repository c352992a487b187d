"""The dashboard's review pages."""

from fastapi import APIRouter

router = APIRouter()
