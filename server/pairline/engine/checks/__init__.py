"""A project's own checks: finding them, running them within limits, reading their failures."""
