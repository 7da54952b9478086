"""Shared admin pieces: roles, versioned saves, service-backed forms, history, soft delete, review.

The role field of the user decides what the admin allows (superusers count as admins); Django's
per-model permission rows are not used. Every write of an audited record made here records a
version in the same transaction, through the services where there is one.

- `roles`: who may do what, and the admin and inline bases whose permissions follow the role.
- `links`: links to admin change pages.
- `history`: the version history of a record, and the read-only admins of version tables.
- `forms`: editor forms, and service-backed forms whose service refusals are form errors.
- `versioned`: admins whose saves record a version, directly or through a service.
- `actions`: soft delete, restore and review actions, and the page that asks for a reason.
- `filters`: changelist filters shared by the app admins.
"""
