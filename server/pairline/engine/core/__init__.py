"""Shared basics every feature builds on: types, settings, languages, syntax, documents."""
