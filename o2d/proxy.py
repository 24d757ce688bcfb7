def client_ip(request) -> str:
    """The client address as seen by our own TLS proxy (the last X-Forwarded-For entry)."""
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    return forwarded.split(",")[-1].strip() or request.META.get("REMOTE_ADDR", "")


def remote_addr(request) -> str:
    """The client address when no proxy of ours stands in front: forwarding headers are
    written by the client and are never trusted."""
    return request.META.get("REMOTE_ADDR", "")
