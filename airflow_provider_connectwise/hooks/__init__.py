"""Hooks of the ConnectWise provider."""
