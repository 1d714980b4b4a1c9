"""Lantern: a private, offline desktop assistant."""

from app.openmp_env import limit_openmp_spin

__version__ = "0.1.0"

limit_openmp_spin()  # before anything loads llama.cpp (and with it libgomp)
