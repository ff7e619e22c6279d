"""The WebSocket endpoint and its typed message protocol (version 1)."""
