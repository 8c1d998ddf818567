"""App config for computed analyses."""

from django.apps import AppConfig


class AnalysisConfig(AppConfig):
    name = "analysis"
