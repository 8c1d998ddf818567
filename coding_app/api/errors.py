"""One error shape for the whole API: {"detail": "...", "errors": {field: [messages]}}."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from coding_app.access import AccessDenied
from coding_app.services.codes import CodeConflict


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"

    def __init__(self, detail=None, code=None):
        if detail is None:
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE / 1024 / 1024
            detail = f"The request body is larger than {limit:g} MB; send less at once."
        super().__init__(detail, code)


def exception_handler(exc, context):
    if isinstance(exc, CodeConflict):
        from .serializers import CodeSerializer

        current = CodeSerializer(exc.current).data
        return Response(
            {"detail": str(exc), "errors": {"version": [str(exc)]}, "current": current},
            status=status.HTTP_409_CONFLICT,
            headers={"ETag": f'"{exc.current.version}"'},
        )
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    elif isinstance(exc, AccessDenied):
        exc = exceptions.PermissionDenied(str(exc))
    elif isinstance(exc, RequestDataTooBig | TooManyFieldsSent):  # Django's form-body limits
        exc = RequestTooLarge()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    if response.status_code == status.HTTP_400_BAD_REQUEST and isinstance(
        exc, exceptions.ValidationError
    ):
        errors = data if isinstance(data, dict) else {"non_field_errors": data}
        first = next(iter(errors.values()), ["Invalid input."])
        message = first[0] if isinstance(first, list) and first else str(first)
        response.data = {"detail": str(message), "errors": errors}
    elif isinstance(data, dict) and "detail" in data:
        response.data = {"detail": str(data["detail"]), "errors": {}}
    return Response(response.data, status=response.status_code, headers=response.headers)
