"""Command-line clients of Turnstile's HTTP API."""
