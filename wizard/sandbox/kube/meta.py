"""Time formats and durations exactly as Go's Kubernetes code prints them.

`metav1.Time` marshals to RFC 3339 with whole seconds; log timestamps use RFC3339Nano (trailing zeros trimmed);
kubectl's AGE column is `duration.HumanDuration`.
"""

from __future__ import annotations

import datetime as dt


def rfc3339(epoch: float) -> str:
    return dt.datetime.fromtimestamp(int(epoch), dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def rfc3339_nano(epoch_ns: int) -> str:
    """Go's time.RFC3339Nano: up to nine fraction digits, trailing zeros (and a bare dot) dropped."""
    seconds, nanos = divmod(epoch_ns, 1_000_000_000)
    base = dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    fraction = f"{nanos:09d}".rstrip("0")
    return f"{base}.{fraction}Z" if fraction else f"{base}Z"


def parse_time(value: object) -> float | None:
    """Epoch seconds of an RFC 3339 timestamp (any fraction, `Z` or an offset), or None when it isn't one."""
    if not isinstance(value, str) or not value:
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    main, _, rest = text.partition(".")
    fraction = ""
    if rest:
        digits = len(rest) - len(rest.lstrip("0123456789"))
        fraction, text = rest[:digits], main + rest[digits:]
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None
    return parsed.timestamp() + (int(fraction) / 10 ** len(fraction) if fraction else 0.0)


def human_duration(seconds: float) -> str:
    """k8s.io/apimachinery/pkg/util/duration.HumanDuration: `5s`, `2m3s`, `15m`, `3h20m`, `2d4h`, `1y30d`…"""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        rest = s % 60
        return f"{minutes}m{rest}s" if rest else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h{rest}m" if rest else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rest = hours % 24
        return f"{hours // 24}d{rest}h" if rest else f"{hours // 24}d"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        rest = (hours // 24) % 365
        return f"{hours // 24 // 365}y{rest}d" if rest else f"{hours // 24 // 365}y"
    return f"{hours // 24 // 365}y"


def age(created: object, now: float) -> str:
    """The AGE cell: `<unknown>` for a missing timestamp, like kubectl's translateTimestampSince."""
    at = parse_time(created)
    return "<unknown>" if at is None else human_duration(now - at)
