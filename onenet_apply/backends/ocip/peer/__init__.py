"""The loopback OCI-P peer: the sandbox's sites served over OCI-P.

Each sandbox site is a group of one enterprise. `dispatch.Peer` answers
documents (login, sessions, one handler per request type from `users` and
`groups`), `server` carries them over TCP or TLS. The handlers enforce the
sandbox's rules by writing through the sandbox, so a refusal comes back as
an `ErrorResponse` naming the rule.
"""
