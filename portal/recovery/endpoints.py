"""Routes of the recovery domain (being written)."""

from fastapi import APIRouter

router = APIRouter()
