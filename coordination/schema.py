"""drf-spectacular hooks: the committed schema says every status an operation can answer.

Views document their particular refusals (409 with ``state``, 403 for a role);
what every operation can answer whatever its view (no credentials, a malformed
query or body, an unknown or out-of-scope object, an invalid cursor, a body past
the size limit, too many writes) is added here once, so schema-driven clients
and the fuzz tests (``tests/api/test_fuzz.py``: status-code conformance) see the
truth.
"""

from __future__ import annotations

COMMON = {
    "400": "Invalid input: `detail` and the offending fields or parameters.",
    "401": "Not authenticated.",
    "403": "The role may not do this.",
    "404": "Missing, or outside the caller's scope (same body); also an invalid cursor.",
    "406": "The `Accept` header asks for something other than JSON.",
}
WITH_BODY = {
    "413": "The body is larger than the platform accepts.",
    "415": "The body is not JSON.",
}
WRITES = {"429": "Too many writes; see `Retry-After`."}


def add_common_error_responses(result, generator, request, public):
    """Postprocessing hook: add the common error statuses an operation does not declare."""
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            extra = dict(COMMON)
            if "requestBody" in operation:
                extra.update(WITH_BODY)
            # A search is POSTed but reads: the write throttle does not count it.
            if method in ("post", "put", "patch", "delete") and not path.endswith("/search/"):
                extra.update(WRITES)
            responses = operation["responses"]
            for code, description in extra.items():
                responses.setdefault(code, {"description": description})
            operation["responses"] = dict(sorted(responses.items()))
    return result
