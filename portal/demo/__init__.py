"""The demo data set: one apartment building with three years of history, and its documented accounts."""

from portal.demo.accounts import DEMO_ACCOUNTS, DEMO_PASSWORD, DemoAccount, describe_demo_accounts
from portal.demo.seed import DemoAlreadySeeded, seed_demo

__all__ = [
    "DEMO_ACCOUNTS",
    "DEMO_PASSWORD",
    "DemoAccount",
    "DemoAlreadySeeded",
    "describe_demo_accounts",
    "seed_demo",
]
