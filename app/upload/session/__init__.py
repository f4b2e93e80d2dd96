"""The transport-neutral multipart session: one session's zip, planned, sent, resumed, verified."""
