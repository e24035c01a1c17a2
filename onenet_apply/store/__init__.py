"""The shared state store: the site lock and the apply history in PostgreSQL.

Used beside any backend when `--state postgresql://...` (or `ONENET_STATE`) is given,
so admins and CI runners applying to the same sites take turns and leave a record
of who changed what. docs/state-store.md describes the design. Importing the
package loads nothing: psycopg is imported only by a command that uses a store.
"""
