"""Routes of the accounts domain (being written)."""

from fastapi import APIRouter

router = APIRouter()
