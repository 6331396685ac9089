"""HTTP API of photos and measurements. Thin: :mod:`cases.actions.photos` and
:mod:`cases.actions.measurements` do the work."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import IO, Any

from django.conf import settings
from django.core.files.uploadhandler import MemoryFileUploadHandler
from django.http import HttpRequest, HttpResponse
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import parsers, status
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from cases.actions import measurements, photos
from cases.actions.photos import measurement_json
from cases.serializers.photos import (
    CaptureCheckSerializer,
    MeasurementSerializer,
    OutlineSerializer,
    PhotoSerializer,
    PhotoUploadSerializer,
    PostedPhotoSerializer,
    RejectSerializer,
    TrajectorySerializer,
    UploadedSerializer,
    UploadSerializer,
    photo_payload,
)
from coordination.api import APIView, request_user, validated
from coordination.errors import CoordinationError
from rooms.serializers import message_payload, messages_queryset

# Multipart framing around the photo: boundaries, headers, the other fields.
MULTIPART_SLACK = 64 * 1024


class RawImageParser(parsers.BaseParser):
    """A photo sent as the raw body (``image/*`` or ``application/octet-stream``), read up to
    one byte past the limit (so that more is ``image_too_large``, not read whole)."""

    media_type = "image/*"
    limit = 0

    def parse(
        self,
        stream: IO[Any] | None,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        if stream is None:
            return {"data": b""}
        return {"data": stream.read(self.limit + 1)}


class RawOctetParser(RawImageParser):
    media_type = "application/octet-stream"


class _InMemory(MemoryFileUploadHandler):
    """Multipart photos stay in memory (never in a plaintext temporary file): the request's
    size is checked before parsing, so this is bounded."""

    def handle_raw_input(
        self,
        input_data: Any,
        META: Any,
        content_length: int,
        boundary: Any,
        encoding: str | None = None,
    ) -> None:
        self.activated = True


class PhotoBodyView(APIView):
    """A view that takes a photo: multipart (``file``) or the raw body, at most ``max_bytes``."""

    max_bytes = 0

    def get_parsers(self) -> list[parsers.BaseParser]:
        raw = RawImageParser()
        raw.limit = self.max_bytes or settings.PHOTO_MAX_BYTES
        octet = RawOctetParser()
        octet.limit = raw.limit
        return [parsers.MultiPartParser(), raw, octet]

    def initialize_request(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Request:
        request.upload_handlers = [_InMemory(request)]
        return super().initialize_request(request, *args, **kwargs)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        # Before anything reads the body (a session's CSRF check parses a multipart form).
        limit = self.max_bytes or settings.PHOTO_MAX_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit + MULTIPART_SLACK:
            raise CoordinationError("image_too_large", details={"max_bytes": limit})
        super().initial(request, *args, **kwargs)

    def photo_bytes(self, request: Request) -> bytes:
        limit = self.max_bytes or settings.PHOTO_MAX_BYTES
        data: Any = request.data
        if "data" in data and isinstance(data["data"], bytes):
            body: bytes = data["data"]
        else:
            file = request.FILES.get("file")
            if file is None:
                raise CoordinationError(
                    "invalid_request", details={"fields": {"file": ["Send the photo."]}}
                )
            body = file.read(limit + 1)
        if len(body) > limit:
            raise CoordinationError("image_too_large", details={"max_bytes": limit})
        return body


def _posted(posted: photos.PostedPhoto) -> Response:
    photo = posted.photo
    message = messages_queryset().get(pk=photo.message_id or 0)
    return Response(
        {"photo": photo_payload(photo), "message": message_payload(message)},
        status=status.HTTP_201_CREATED if posted.created else status.HTTP_200_OK,
    )


class CasePhotosView(PhotoBodyView):
    def get_parsers(self) -> list[parsers.BaseParser]:
        return [parsers.MultiPartParser()]

    @extend_schema(
        operation_id="cases_photos_create",
        summary="Post a wound photo to a case (multipart); measured in the background",
        request={"multipart/form-data": PhotoUploadSerializer},
        responses={201: PostedPhotoSerializer, 200: PostedPhotoSerializer},
    )
    def post(self, request: Request, case_id: int) -> Response:
        user = request_user(request)
        data = self.photo_bytes(request)
        fields = validated(PhotoUploadSerializer, request.data)
        posted = photos.post_photo(
            user,
            case_id,
            data=data,
            client_uuid=fields["client_uuid"],
            wound_site_id=fields.get("wound_site"),
            captured_at=fields.get("captured_at"),
        )
        return _posted(posted)


class UploadsView(PhotoBodyView):
    @extend_schema(
        operation_id="uploads_create",
        summary="Stage a photo for the WebSocket command `photo` (multipart or raw image body)",
        request={"multipart/form-data": UploadSerializer, "image/*": OpenApiTypes.BINARY},
        responses={201: UploadedSerializer},
    )
    def post(self, request: Request) -> Response:
        upload = photos.stage_upload(request_user(request), self.photo_bytes(request))
        return Response({"upload": upload}, status=status.HTTP_201_CREATED)


class CaptureCheckView(PhotoBodyView):
    max_bytes = photos.CAPTURE_MAX_BYTES

    @extend_schema(
        operation_id="capture_check",
        summary="Is this preview frame good enough to measure? (the sticker's verdict)",
        request={"image/*": OpenApiTypes.BINARY, "multipart/form-data": UploadSerializer},
        responses=CaptureCheckSerializer,
    )
    def post(self, request: Request) -> Response:
        return Response(photos.check_capture(request_user(request), self.photo_bytes(request)))


class _JSONOnly(BaseContentNegotiation):
    """Photo bytes go out as they are; errors in JSON whatever the client accepts."""

    def select_parser(self, request: Request, parsers: Iterable[parsers.BaseParser]) -> Any:
        return next(iter(parsers), None)

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        renderer = next(iter(renderers))
        return renderer, renderer.media_type


class PhotoFileView(APIView):
    thumbnail = False
    content_negotiation_class = _JSONOnly
    renderer_classes = [JSONRenderer]

    @extend_schema(
        summary="The photo's bytes (decrypted); audited",
        responses={(200, "image/jpeg"): OpenApiResponse(OpenApiTypes.BINARY)},
    )
    def get(self, request: Request, photo_id: int) -> HttpResponse:
        data, content_type = photos.view_photo(
            request_user(request), photo_id, thumbnail=self.thumbnail
        )
        response = HttpResponse(data, content_type=content_type)
        response["Cache-Control"] = "private, no-store"
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Disposition"] = "inline"
        return response


class PhotoImageView(PhotoFileView):
    pass


class PhotoThumbnailView(PhotoFileView):
    thumbnail = True


class PhotoView(APIView):
    @extend_schema(
        summary="One photo: its size, analysis state and calibration (for drawing by hand)",
        responses=PhotoSerializer,
    )
    def get(self, request: Request, photo_id: int) -> Response:
        return Response(photo_payload(photos.get_photo(request_user(request), photo_id)))


class MeasurementView(APIView):
    @extend_schema(summary="One measurement", responses=MeasurementSerializer)
    def get(self, request: Request, measurement_id: int) -> Response:
        return Response(
            measurement_json(measurements.get_measurement(request_user(request), measurement_id))
        )


class ValidateView(APIView):
    @extend_schema(
        summary="Validate a suggested measurement", request=None, responses=MeasurementSerializer
    )
    def post(self, request: Request, measurement_id: int) -> Response:
        m = measurements.validate_measurement(request_user(request), measurement_id)
        return Response(measurement_json(m))


class RejectView(APIView):
    @extend_schema(
        summary="Reject a suggested measurement",
        request=RejectSerializer,
        responses=MeasurementSerializer,
    )
    def post(self, request: Request, measurement_id: int) -> Response:
        note = validated(RejectSerializer, request.data)["note"]
        m = measurements.reject_measurement(request_user(request), measurement_id, note=note)
        return Response(measurement_json(m))


class CorrectView(APIView):
    @extend_schema(
        summary="Correct a suggestion's outline: a new, re-measured measurement",
        request=OutlineSerializer,
        responses={201: MeasurementSerializer},
    )
    def post(self, request: Request, measurement_id: int) -> Response:
        outline = validated(OutlineSerializer, request.data)["outline"]
        m = measurements.correct_measurement(request_user(request), measurement_id, outline=outline)
        return Response(measurement_json(m), status=status.HTTP_201_CREATED)


class PhotoMeasurementsView(APIView):
    @extend_schema(
        operation_id="photos_measurements_create",
        summary="Measure a wound outlined by hand on a photo",
        request=OutlineSerializer,
        responses={201: MeasurementSerializer},
    )
    def post(self, request: Request, photo_id: int) -> Response:
        outline = validated(OutlineSerializer, request.data)["outline"]
        m = measurements.draw_measurement(request_user(request), photo_id, outline=outline)
        return Response(measurement_json(m), status=status.HTTP_201_CREATED)


class TrajectoryView(APIView):
    @extend_schema(
        summary="A wound site's validated measurements over time, against its healing rule",
        responses=TrajectorySerializer,
    )
    def get(self, request: Request, site_id: int) -> Response:
        return Response(measurements.trajectory(request_user(request), site_id))


urlpatterns = [
    path("cases/<id:case_id>/photos", CasePhotosView.as_view(), name="case-photos"),
    path("uploads", UploadsView.as_view(), name="uploads"),
    path("capture-check", CaptureCheckView.as_view(), name="capture-check"),
    path("photos/<id:photo_id>", PhotoView.as_view(), name="photo"),
    path("photos/<id:photo_id>/image", PhotoImageView.as_view(), name="photo-image"),
    path("photos/<id:photo_id>/thumbnail", PhotoThumbnailView.as_view(), name="photo-thumbnail"),
    path(
        "photos/<id:photo_id>/measurements",
        PhotoMeasurementsView.as_view(),
        name="photo-measurements",
    ),
    path("measurements/<id:measurement_id>", MeasurementView.as_view(), name="measurement"),
    path(
        "measurements/<id:measurement_id>/validate",
        ValidateView.as_view(),
        name="measurement-validate",
    ),
    path(
        "measurements/<id:measurement_id>/reject", RejectView.as_view(), name="measurement-reject"
    ),
    path(
        "measurements/<id:measurement_id>/correct",
        CorrectView.as_view(),
        name="measurement-correct",
    ),
    path("wound-sites/<id:site_id>/trajectory", TrajectoryView.as_view(), name="trajectory"),
]
