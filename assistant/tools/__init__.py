"""One module per capability; each is plain functions of (components, arguments) -> result."""
