"""Adapters that drive other open-source sync tools on the benchmark's scenarios, each in its own venv."""
