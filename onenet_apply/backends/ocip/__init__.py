"""BroadWorks OCI-P: the backend for a real One Net Business platform, and the
loopback peer that serves the sandbox over the same protocol (docs/ocip.md).

`codec` reads and writes documents through broadworks-ocip's classes;
`channel` and `transport` carry them; `link` turns answers into the backend's
errors; `backend` is the Backend, with `users`, `groups` and the readers doing
the mapping; `services` maps the catalogue's words to BroadWorks names; `peer`
is the server side. Importing this package imports none of them: broadworks-ocip
takes half a second to load, and only OCI-P commands pay for it.
"""
