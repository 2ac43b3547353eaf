"""Turnstile: serverless event registration. Shared code for the API and the workers."""
