"""Sensors of the ConnectWise provider."""
