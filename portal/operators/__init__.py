"""The billing center's operators: their API keys and the operator API (``/api/v1/operator``)."""
