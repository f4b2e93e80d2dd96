"""Test Connection for the backend destination: is it reachable, is the token accepted?

simple: `GET <authCheckPath>` with the token (the seed's check): 2xx -> fine.
companion: Companion has no check route; `POST /s3/multipart` with an empty body is refused
by Companion itself with 400 ("filename is required") after any proxy in front of it let the
token through, so it shows the S3 routes are there without creating anything.
"""

from __future__ import annotations

from app.upload.backend.http import BackendHttp
from app.upload.backend.settings import BackendSettings
from app.upload.session.errors import ErrorKind, UploadError


def test_connection(settings: BackendSettings) -> str | None:
    """None when the backend answers and takes the token, else one sentence."""
    http = BackendHttp(settings)
    where = f"The backend at {settings.host}"
    try:
        if settings.protocol == "companion":
            http.call_json("POST", "/s3/multipart", {})
        else:
            http.call_json("GET", settings.auth_check_path)
    except UploadError as error:
        if error.kind == ErrorKind.INVALID_CREDENTIALS:
            return f"{where} is reachable, but it refused the token; set a new backendToken."
        if settings.protocol == "companion" and error.detail == "HTTP 400":
            return None  # Companion's own answer to the empty request: the routes are there
        if error.kind in (ErrorKind.NETWORK, ErrorKind.TIMEOUT, ErrorKind.CONNECTION_RESET):
            return f"{where} cannot be reached; check backendUrl and the network connection."
        if error.detail == "HTTP 404":
            what = ("Uppy Companion's S3 routes" if settings.protocol == "companion"
                    else f"the auth check {settings.auth_check_path}")
            return f"{where} is reachable, but it has no {what}; check backendUrl and the paths."
        return f"{where} is reachable, but {error.sentence[0].lower()}{error.sentence[1:]}"
    if settings.protocol == "companion":
        return f"{where} accepted an empty upload request; it does not look like Uppy Companion."
    return None
