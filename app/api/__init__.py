"""The HTTP edge: Kea's command envelope in, Kea's answers out."""
