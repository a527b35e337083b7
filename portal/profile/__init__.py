"""profile domain: the resident's e-mail and password, changed behind a captcha."""
