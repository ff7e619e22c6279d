"""When a consultation may be recorded: a stated purpose, everyone's consent, retention and deletion.

Pure rules: nothing here imports aiohttp, aiortc or SQLAlchemy. A recorder adapter asks these rules
before it starts, and stops as soon as they say no (for example when someone withdraws consent).
"""
