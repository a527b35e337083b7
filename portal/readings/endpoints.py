"""Routes of the readings domain (being written)."""

from fastapi import APIRouter

router = APIRouter()
