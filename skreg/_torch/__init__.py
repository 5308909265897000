"""The torch side of skreg: network, losses, penalties and training engine."""
