"""Operators of the ConnectWise provider."""
