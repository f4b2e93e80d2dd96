"""The backend destination: no AWS key on this computer; a backend signs every request."""
