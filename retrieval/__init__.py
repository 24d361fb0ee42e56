"""Documents -> passages -> index -> hybrid search. Knows nothing of answers or adapters."""
