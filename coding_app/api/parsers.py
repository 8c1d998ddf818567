"""A JSON parser that refuses a body larger than DATA_UPLOAD_MAX_MEMORY_SIZE.

Django applies that limit to form bodies only; DRF's JSON parser would read any size into
memory.
"""

import io

from django.conf import settings
from rest_framework.parsers import JSONParser

from .errors import RequestTooLarge


class BoundedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is None:
            return super().parse(stream, media_type, parser_context)
        request = (parser_context or {}).get("request")
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        if declared and declared.isdigit() and int(declared) > limit:
            raise RequestTooLarge()
        body = stream.read(limit + 1)
        if len(body) > limit:
            raise RequestTooLarge()
        return super().parse(io.BytesIO(body), media_type, parser_context)
