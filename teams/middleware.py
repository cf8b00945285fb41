"""Who is acting, for the activity log's entries written from signals (deletions)."""

from __future__ import annotations

from contextvars import ContextVar

from asgiref.sync import iscoroutinefunction, markcoroutinefunction

_request_user: ContextVar = ContextVar("teams_request_user", default=None)


def current_actor():
    """The signed-in user of the request being served, or None (a task, a shell)."""
    user = _request_user.get()
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return user


class ActorMiddleware:
    """Remembers ``request.user`` (still lazy) while the request is served."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request):
        if self.is_async:
            return self._acall(request)
        token = _request_user.set(getattr(request, "user", None))
        try:
            return self.get_response(request)
        finally:
            _request_user.reset(token)

    async def _acall(self, request):
        token = _request_user.set(getattr(request, "user", None))
        try:
            return await self.get_response(request)
        finally:
            _request_user.reset(token)
