"""App config for the coding domain."""

from django.apps import AppConfig


class CodingAppConfig(AppConfig):
    name = "coding_app"
    verbose_name = "Coding"
