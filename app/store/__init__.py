"""The lease store: Kea's SQL schema through SQLAlchemy, with group commit."""
