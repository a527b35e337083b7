"""Routes of the registration domain (being written)."""

from fastapi import APIRouter

router = APIRouter()
