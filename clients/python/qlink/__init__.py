"""QLink for Python: the wire protocol (`qlink.wire`), `.qtag` files in numpy (`qlink.qtag`), heralds and status
over CURVE (`qlink.subscribe`), `GET /status` (`qlink.status`) and QLink-issued certificates (`qlink.certs`).

Importing `qlink` loads nothing heavy; import the submodules you use.
"""
__version__ = "0.1.0"
__all__ = ["certs", "qtag", "status", "subscribe", "wire"]
