"""Sources: the PSA and the vendors (here, CSV profiles) that syncs read from."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from errors import TrueUpError
from store.models import Source
from store.types import SourceKind


def source_named(session: Session, name: str) -> Source | None:
    """Give back the source of that name, if there is one."""
    return session.scalars(sa.select(Source).where(Source.name == name)).one_or_none()


def ensure_source(
    session: Session, name: str, kind: SourceKind, at: datetime, distributor: str | None = None
) -> Source:
    """Give back the source of that name, made now if it is new.

    There is one PSA per install (DESIGN 1): a second PSA source is refused, as is a sync of
    one kind into a source of the other.
    """
    name = name.strip()
    if not name:
        raise TrueUpError("a source needs a name, e.g. --source pax8")
    source = source_named(session, name)
    if source is not None:
        if source.kind != kind:
            raise TrueUpError(
                f'source "{name}" is a {source.kind.value} source; '
                f"give this file another source name"
            )
        if distributor and distributor != source.distributor:
            source.distributor = distributor
        return source
    if kind is SourceKind.PSA:
        psa = session.scalars(sa.select(Source.name).where(Source.kind == SourceKind.PSA)).first()
        if psa is not None:
            raise TrueUpError(
                f'the PSA is already the source "{psa}": import PSA exports with --source "{psa}"'
            )
    source = Source(name=name, kind=kind, distributor=distributor, created_at=at)
    session.add(source)
    session.flush()
    return source
