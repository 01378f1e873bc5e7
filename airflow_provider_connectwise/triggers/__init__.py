"""Triggers of the ConnectWise provider."""
