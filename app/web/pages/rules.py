"""The dashboard's rules pages."""

from fastapi import APIRouter

router = APIRouter()
