"""Routes of the history domain (being written)."""

from fastapi import APIRouter

router = APIRouter()
