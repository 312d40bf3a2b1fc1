"""Fixtures of the rendered-document suite (defined in rendered_docs.py, which the tests import)."""

from tests.render.rendered_docs import demo, demo_annual, demo_quarterly  # noqa: F401
