"""The HTTP host: the skill behind a Flask app factory, with Alexa request verification.

Depends on ``skill``; the skill never imports this package.
"""
