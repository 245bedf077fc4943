"""Dice-driven AI variation installation: dice in, variations on the wall, OSC cues out."""

__version__ = "0.1.0"
