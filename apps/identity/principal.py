"""What every signed-in request needs to know about its user, read from the cache.

Each signed-in page used to spend a query on the account row (``auth.get_user``) and another
on who the user acts for — the enterprises a person represents (my cases, applying for a
unit) or a civil servant's active posts (the office queue and screens). Together they were a
fifth of a list page's time. They change a few times in an account's life, so they are kept
in the cache and read with the session's user in one round trip.

Correctness rests on a *generation token* per user (and one for all users, for changes to
departments, whose region a post carries). Every cached part is stored with the tokens it was
computed under; a part is used only when its tokens are the current ones. A change replaces
the token at once and again after its transaction commits, so a reader that computed a part
from the old rows — before the commit — stores it under a token nobody asks for any more: no
window in which a revoked role or a deactivated post could be served from the cache. The
hooks are ``post_save``/``post_delete`` receivers (cache plumbing, not domain logic: a
service that forgot to invalidate would be a security hole, so every write is heard, the
admin's included); a bulk ``update()`` of these rows must call ``changed(user_id)`` itself
(``services.enterprises`` does). Parts also expire (``TTL``), which bounds the damage of a
cache that lost a token write.

Anything the cache cannot answer (no cache, no token yet, an error) falls back to the query.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)

TTL = 600
_ALL = "identity:principal:all"
# Parts of a user's record in the cache (each a (tokens, value) pair under its own key).
USER = "user"
ENTERPRISES = "enterprises"
POSTS = "posts"
PARTS = (USER, ENTERPRISES, POSTS)
# The per-request copy of what the cache held, on the user instance.
_LOADED = "_principal_loaded"


def _token_key(user_id: int) -> str:
    return f"identity:principal:{user_id}"


def _part_key(user_id: int, part: str) -> str:
    return f"identity:principal:{user_id}:{part}"


def _new_token() -> str:
    return uuid.uuid4().hex


def changed(user_id: int | None) -> None:
    """The user's cached parts are stale now and once the current transaction commits."""
    if user_id is not None:
        _replace_now_and_on_commit(_token_key(user_id))


def changed_for_all() -> None:
    """Every user's cached parts are stale now and once the current transaction commits."""
    _replace_now_and_on_commit(_ALL)


def _replace_now_and_on_commit(key: str) -> None:
    _replace_token(key)
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(lambda: _replace_token(key))


def _replace_token(key: str) -> None:
    try:
        cache.set(key, _new_token(), timeout=None)
    except Exception:
        # The parts expire after TTL; until then a reader may see the old tokens.
        logger.exception("identity.principal_invalidation_failed", extra={"key": key})


class _Loaded:
    """The tokens and parts one ``mget`` returned for a user (one per request)."""

    __slots__ = ("parts", "tokens")

    def __init__(self, tokens: tuple[str, str] | None, parts: dict[str, Any]) -> None:
        self.tokens = tokens
        self.parts = parts


def _read(user_id: int) -> _Loaded:
    keys = [_ALL, _token_key(user_id), *(_part_key(user_id, part) for part in PARTS)]
    try:
        found = cache.get_many(keys)
    except Exception:
        logger.warning("identity.principal_cache_unavailable", exc_info=True)
        return _Loaded(None, {})
    everyone = found.get(_ALL) or _start_token(_ALL)
    own = found.get(_token_key(user_id)) or _start_token(_token_key(user_id))
    if everyone is None or own is None:
        return _Loaded(None, {})
    tokens = (everyone, own)
    parts = {}
    for part in PARTS:
        entry = found.get(_part_key(user_id, part))
        if entry is not None and entry[0] == tokens:
            parts[part] = entry[1]
    return _Loaded(tokens, parts)


def _start_token(key: str) -> str | None:
    """A first token for ``key`` (the cache was emptied); None when another request set one
    first (its value unknown here: this request answers from the database)."""
    token = _new_token()
    try:
        return token if cache.add(key, token, timeout=None) else None
    except Exception:
        logger.warning("identity.principal_cache_unavailable", exc_info=True)
        return None


def _store(user_id: int, loaded: _Loaded, part: str, value: Any) -> None:
    if loaded.tokens is None:
        return
    loaded.parts[part] = value
    try:
        cache.set(_part_key(user_id, part), (loaded.tokens, value), timeout=TTL)
    except Exception:
        logger.warning("identity.principal_cache_unavailable", exc_info=True)


def load_user(user_id: Any, fetch: Callable[[Any], Any]) -> Any:
    """The account for a session (``fetch(user_id)`` on a miss; None when there is none)."""
    try:
        pk = int(user_id)
    except (TypeError, ValueError):
        return fetch(user_id)
    loaded = _read(pk)
    user = loaded.parts.get(USER)
    if user is None:
        user = fetch(pk)
        if user is None:
            return None
        _store(pk, loaded, USER, user)
    # The other parts ride along on this request's instance.
    setattr(user, _LOADED, loaded)
    return user


def _part(user: Any, part: str, compute: Callable[[], Any]) -> Any:
    loaded = getattr(user, _LOADED, None)
    if loaded is None:
        loaded = _read(user.pk)
        setattr(user, _LOADED, loaded)
    if part in loaded.parts:
        return loaded.parts[part]
    value = compute()
    _store(user.pk, loaded, part, value)
    return value


def represented_enterprise_ids(user: Any) -> list[int]:
    """The enterprises ``user`` acts for on their own standing: as legal representative or in
    an unrevoked enterprise role (证照管理员). Agent authorisations are per case, not here."""
    from django.db.models import Q

    from apps.identity.models import Enterprise, EnterpriseRole

    def compute() -> list[int]:
        return list(
            Enterprise.objects.filter(
                Q(legal_representative=user)
                | Q(
                    pk__in=EnterpriseRole.objects.filter(user=user, revoked_at__isnull=True).values(
                        "enterprise_id"
                    )
                )
            )
            .order_by("pk")
            .values_list("pk", flat=True)
        )

    return list(_part(user, ENTERPRISES, compute))


Post = tuple[int, int | None, str, str]


def active_posts(user: Any, roles: Iterable[str] | None = None) -> list[Post]:
    """(department id, hall id, role, department's region code) of each active staff post of
    ``user``, in the order of the database, optionally only of ``roles``."""

    def compute() -> list[Post]:
        from apps.identity.models import StaffMembership

        return list(
            StaffMembership.objects.filter(user_id=user.pk, is_active=True)
            .order_by("pk")
            .values_list("department_id", "hall_id", "role", "department__region__code")
        )

    posts = _part(user, POSTS, compute)
    if roles is None:
        return list(posts)
    wanted = set(roles)
    return [post for post in posts if post[2] in wanted]


# --- the hooks ------------------------------------------------------------------------------


def _user_saved(sender: Any, instance: Any, **kwargs: Any) -> None:
    changed(instance.pk)


def _by_user_id(sender: Any, instance: Any, **kwargs: Any) -> None:
    changed(instance.user_id)


def _enterprise_before_save(sender: Any, instance: Any, **kwargs: Any) -> None:
    # The representative before this save loses the enterprise too.
    if instance.pk is not None:
        instance._previous_representative_id = (
            sender.objects.filter(pk=instance.pk)
            .values_list("legal_representative_id", flat=True)
            .first()
        )


def _enterprise_saved(sender: Any, instance: Any, **kwargs: Any) -> None:
    changed(instance.legal_representative_id)
    previous = getattr(instance, "_previous_representative_id", None)
    if previous != instance.legal_representative_id:
        changed(previous)


def _everyone(sender: Any, instance: Any, **kwargs: Any) -> None:
    changed_for_all()


def connect() -> None:
    """Called from ``IdentityConfig.ready``."""
    from django.db.models.signals import post_delete, post_save, pre_save

    from apps.core.models import Department, Region
    from apps.identity.models import Enterprise, EnterpriseRole, StaffMembership

    hooks = (
        (settings.AUTH_USER_MODEL, _user_saved),
        (EnterpriseRole, _by_user_id),
        (StaffMembership, _by_user_id),
        (Enterprise, _enterprise_saved),
        (Department, _everyone),
        (Region, _everyone),
    )
    for name, signal in (("save", post_save), ("delete", post_delete)):
        for sender, receiver in hooks:
            label = sender if isinstance(sender, str) else sender._meta.label
            signal.connect(receiver, sender=sender, dispatch_uid=f"principal.{label}.{name}")
    pre_save.connect(
        _enterprise_before_save, sender=Enterprise, dispatch_uid="principal.enterprise.pre"
    )
