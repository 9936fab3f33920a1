"""Command-line front end: thin click commands over the ``Assistant`` service."""
