"""Turns a role denial raised anywhere in a page view into a 403 page."""

from django.shortcuts import render

from .access import AccessDenied


class AccessDeniedMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, AccessDenied):
            return render(request, "403.html", {"message": str(exception)}, status=403)
        return None
