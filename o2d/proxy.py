def client_ip(request) -> str:
    """The client address as seen by our own TLS proxy (the last X-Forwarded-For entry)."""
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    return forwarded.split(",")[-1].strip() or request.META.get("REMOTE_ADDR", "")
