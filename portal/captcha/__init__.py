"""captcha domain: single-use, purpose-bound captcha images before profile changes."""
