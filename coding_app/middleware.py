"""Turns a role denial raised anywhere in a page view into a 403 page, and keeps the
membership cache to one request."""

from django.shortcuts import render

from .access import AccessDenied, memberships_forget


class AccessDeniedMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = request.__dict__.get("user")
        if user is not None:
            memberships_forget(user)
        return response

    def process_exception(self, request, exception):
        if isinstance(exception, AccessDenied):
            return render(request, "403.html", {"message": str(exception)}, status=403)
        return None
