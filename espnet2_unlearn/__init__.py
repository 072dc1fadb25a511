"""ESPnet-Unlearn: make speech emotion recognition models forget."""

__version__ = "0.1.0"
